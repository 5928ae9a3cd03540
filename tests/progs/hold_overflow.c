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

int main(int argc, char** argv)
{
   overflow(argc > 1 ? atoi(argv[1]) : 33);
   if (argc > 2) park_many(atoi(argv[2]));
   return 0;
}
