/*--------------------------------------------------------------------*/
/*--- stackheap: what differs between Valgrind releases.           ---*/
/*--- sh_vgapi.h                                                    ---*/
/*--------------------------------------------------------------------*/

/* stackheap is free software; GPL-2.0-or-later.  See COPYING. */

/* The tool builds against Valgrind 3.19 .. 3.27.  sh_config.h holds what
   stackheap/sh_probe_vgapi.sh found in the Valgrind at hand (configure
   writes it out of tree, the tool directory's Makefile.am in tree); this
   header turns those findings into the few names the rest of the tool
   uses, so no other file tests a Valgrind feature. */

#ifndef SH_VGAPI_H
#define SH_VGAPI_H

#include "pub_tool_basics.h"
#include "sh_config.h"

/* The core's --error-exitcode.  Not in the tool headers; memcheck gets
   its effect through the error manager, which does not count threshold
   crossings, so we read the core's variable directly. */
#if SH_VG_HAVE_CLO_ERROR_EXITCODE
extern Int VG_(clo_error_exitcode);
#  define SH_VG_ERROR_EXITCODE() VG_(clo_error_exitcode)
#else
#  define SH_VG_ERROR_EXITCODE() 0
#endif

/* Likewise the core's --read-inline-info, which the core turns on by
   default only for its own tools. */
#if SH_VG_HAVE_CLO_READ_INLINE_INFO
extern Bool VG_(clo_read_inline_info);
#  define SH_VG_READ_INLINE_INFO_BY_DEFAULT() (VG_(clo_read_inline_info) = True)
#else
#  define SH_VG_READ_INLINE_INFO_BY_DEFAULT() ((void)0)
#endif

/* The core's --sanity-level, which decides how much the full sanity
   check walks (sh_main.c).  Unknown: walk everything, as at level 2. */
#if SH_VG_HAVE_CLO_SANITY_LEVEL
extern Int VG_(clo_sanity_level);
#  define SH_VG_SANITY_LEVEL() VG_(clo_sanity_level)
#else
#  define SH_VG_SANITY_LEVEL() 2
#endif

/* The core's --merge-recursive-frames, which changes what a short
   unwind gives (sh_sites.c). */
#if SH_VG_HAVE_CLO_MERGE_RECURSIVE_FRAMES
extern Int VG_(clo_merge_recursive_frames);
#endif

/* n bytes of fresh (zeroed) pages from the address-space manager; out of
   memory ends the run, saying `what` needed them. */
void* SH_(shadow_alloc)(SizeT n, const HChar* what);

/* Registers the allocator entry points of sh_alloc.c with the core,
   through adapters where this Valgrind's callback signatures differ. */
void SH_(needs_malloc_replacement)(void);
/* f is one of the callbacks given to VG_(needs_malloc_replacement). */
Bool SH_(is_malloc_callback)(Addr f);

#endif /* SH_VGAPI_H */
