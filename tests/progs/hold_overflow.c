/* Bounded bookkeeping.  overflow(): one block stored into more holders
   than the tool keeps (32): judged `heap` conservatively and counted in
   holders_overflowed, although every holder is frame.  park_many(n):
   n blocks freed while their holder is still live wait for it; past the
   cap on waiting blocks (65536) the rest are judged `heap` at once and
   counted too. */
#include <stdlib.h>
#include "cls_common.h"

struct holder { char* p; long v; };

/* Out of line, so that -O2 cannot drop the store as dead. */
NOINLINE static void hold(struct holder* h, char* p)
{
   h->p = p;
}

NOINLINE static void overflow(int n)
{
   struct holder* h[40];
   char* target = malloc(8); /* ALLOC-TARGET */
   int i;
   for (i = 0; i < n; i++) {
      h[i] = malloc(sizeof *h[i]); /* ALLOC-HOLDER */
      hold(h[i], target);
   }
   for (i = 0; i < n; i++) free(h[i]);
   free(target);
}

NOINLINE static void park_many(int n)
{
   struct holder* h = malloc(sizeof *h); /* ALLOC-PARK-HOLDER */
   int i;
   for (i = 0; i < n; i++) {
      char* p = malloc(8); /* ALLOC-PARKED */
      hold(h, p);
      fill(p, 8);
      free(p);
   }
   free(h);
}

struct holder* volatile g_holder;

/* A block's first 4 holders sit in its node; once they are full, holders
   already judged make room.  compact_good(): all four were frame, so the
   fifth fits and the block stays frame.  compact_bad(): one of the four
   had been stored in a global, so the block is heap. */
NOINLINE static void compact_good(void)
{
   struct holder* h[5];
   char* t = malloc(8); /* ALLOC-COMPACT-GOOD */
   int i;
   for (i = 0; i < 4; i++) { h[i] = malloc(sizeof *h[i]); hold(h[i], t); }
   for (i = 0; i < 4; i++) free(h[i]);
   h[4] = malloc(sizeof *h[4]);
   hold(h[4], t);
   free(h[4]);
   free(t);
}

NOINLINE static void compact_bad(void)
{
   struct holder* h[5];
   char* t = malloc(8); /* ALLOC-COMPACT-BAD */
   int i;
   for (i = 0; i < 4; i++) {
      h[i] = malloc(sizeof *h[i]); /* ALLOC-COMPACT-HOLDER */
      hold(h[i], t);
   }
   g_holder = h[3];
   for (i = 0; i < 4; i++) free(h[i]);
   g_holder = NULL;
   h[4] = malloc(sizeof *h[4]);
   hold(h[4], t);
   free(h[4]);
   free(t);
}

int main(int argc, char** argv)
{
   compact_good();
   compact_bad();
   overflow(argc > 1 ? atoi(argv[1]) : 33);
   if (argc > 2) park_many(atoi(argv[2]));
   return 0;
}
