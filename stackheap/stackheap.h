/*
   stackheap.h: client requests for stackheap, the Valgrind tool that
   finds heap blocks which could have lived on the stack.

   Include it in your program (it includes valgrind.h).  Outside Valgrind
   every macro does nothing and costs a few instructions.

   Copyright (C) 2026 the stackheap developers.
   Permission is hereby granted, free of charge, to any person obtaining a
   copy of this file, to deal in it without restriction, including the
   rights to use, copy, modify, merge, publish and distribute it.  This
   file is provided "as is", without warranty of any kind.
*/

#ifndef STACKHEAP_H
#define STACKHEAP_H

#include "valgrind.h"

typedef enum {
   SH_USERREQ__START_COLLECTING = VG_USERREQ_TOOL_BASE('S', 'H'),
   SH_USERREQ__STOP_COLLECTING,
   SH_USERREQ__DUMP_REPORT,
   SH_USERREQ__SET_PHASE,
   /* Used by stackheap's own preload (pthread_create wrapper). */
   SH_USERREQ__THREAD_HANDOFF,
   SH_USERREQ__THREAD_HANDOFF_DONE
} SH_ClientRequest;

/* Start counting allocations (with --collect-atstart=no, nothing is
   counted until this). */
#define SH_START_COLLECTING()                                             \
   VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__START_COLLECTING,         \
                                   0, 0, 0, 0, 0)

/* Stop counting allocations: blocks allocated from now on are ignored. */
#define SH_STOP_COLLECTING()                                              \
   VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__STOP_COLLECTING,          \
                                   0, 0, 0, 0, 0)

/* Write the report now: the text report to the log, labelled, and the JSON
   report to a numbered file beside --json-out-file (FILE.1.json, ...). */
#define SH_DUMP_REPORT(label)                                             \
   VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__DUMP_REPORT,              \
                                   (label), 0, 0, 0, 0)

/* Name the phase of the program that runs from now on (a string); each
   site records the phase of its first block and the report counts blocks
   per phase. */
#define SH_SET_PHASE(name)                                                \
   VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__SET_PHASE,                \
                                   (name), 0, 0, 0, 0)

#endif /* STACKHEAP_H */
