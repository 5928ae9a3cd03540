/* Shared helpers for the cls_* fixtures (tests/test_classes.py).
   NOINLINE is noipa: no inlining, no cloning (names stay as written), no
   interprocedural analysis that could delete a malloc/free pair. */
#ifndef CLS_COMMON_H
#define CLS_COMMON_H
#include <stdlib.h>

#define NOINLINE __attribute__((noipa))

/* Only plain numbers go here, never a pointer. */
static volatile long cls_sink;

/* Loop bounds read at run time: no unrolling, so one call site. */
static volatile int cls_two = 2, cls_three = 3, cls_four = 4;

/* Write through p: makes the block observable. */
NOINLINE static void fill(void* p, int n)
{
   int i;
   for (i = 0; i < n; i++) ((volatile char*)p)[i] = (char)i;
}

/* Read through p (the pointer itself is never stored outside the stack). */
NOINLINE static long use(const void* p)
{
   long v = ((const volatile char*)p)[0];
   cls_sink += v;
   return v;
}
#endif
