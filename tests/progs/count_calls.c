/* Shadow-stack bookkeeping counted exactly.  Usage: count_calls CALLS DEPTH JUMPS
   - CALLS calls of leaf() from one loop: each replaces the frame of the
     previous one (its callee has returned, same SP);
   - a recursion DEPTH calls deep, which allocates and frees a block at the
     bottom (the shadow array starts with room for 256 frames and grows);
   - JUMPS times, a recursion 50 calls deep left by longjmp (50 frames
     popped at the next call), then a sibling call after it.
   Each call adds one frame; the report's frame count and maximum depth
   move by exactly what the arguments add. */
#include <setjmp.h>
#include <stdlib.h>
#include "cls_common.h"

static jmp_buf env;

NOINLINE static void leaf(int i) { cls_sink += i; }

NOINLINE static void rec(int d)
{
   if (d > 0) { rec(d - 1); cls_sink++; return; }
   {
      char* p = malloc(24); /* ALLOC-BOTTOM */
      fill(p, 24);
      use(p);
      free(p);
   }
}

NOINLINE static void rec_jump(int d)
{
   if (d > 0) { rec_jump(d - 1); cls_sink++; return; }
   longjmp(env, 1);
}

int main(int argc, char** argv)
{
   int calls = argc > 1 ? atoi(argv[1]) : 1000;
   int depth = argc > 2 ? atoi(argv[2]) : 100;
   int jumps = argc > 3 ? atoi(argv[3]) : 1;
   volatile int j;
   int i;
   for (i = 0; i < calls; i++) leaf(i);
   rec(depth);
   for (j = 0; j < jumps; j++) {
      if (setjmp(env) == 0) rec_jump(49);
      leaf(j);
   }
   return 0;
}
