/* Allocations at the bottom of a recursion, through a wrapper (for
   --alloc-fn=wrap_alloc) and directly, for sh_sites.c's short first
   unwind (tests/test_site_epochs.py).  site_depths R N: recursion R deep,
   then N rounds of one wrapped (32 bytes) and one direct (16 bytes)
   allocation from leaf().  site_depths R N mutual: the recursion is
   pong() and ping() calling each other (R calls in all, main calling
   pong), for --merge-recursive-frames=2: the unwinder then drops the
   last ping/pong pair and puts main's frame where ping's was. */
#include <string.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noipa))
static volatile long sink;

NOINLINE void* wrap_alloc(size_t n)
{
   void* p = malloc(n);
   if (p == NULL) abort();
   return p;
}

NOINLINE static void leaf(int i)
{
   char* p = wrap_alloc(32);
   char* q = malloc(16);
   p[0] = (char)i;
   q[0] = (char)i;
   sink += p[0] + q[0];
   free(q);
   free(p);
}

NOINLINE static void down(int d, int n)
{
   int i;
   if (d > 0) {
      down(d - 1, n);
      sink++;
      return;
   }
   for (i = 0; i < n; i++) leaf(i);
}

NOINLINE static void pong(int d, int n);

NOINLINE static void ping(int d, int n)
{
   int i;
   if (d > 0) {
      pong(d - 1, n);
      sink++;
      return;
   }
   for (i = 0; i < n; i++) leaf(i);
}

NOINLINE static void pong(int d, int n)
{
   ping(d - 1, n);
   sink++;
}

int main(int argc, char** argv)
{
   if (argc == 4 && strcmp(argv[3], "mutual") == 0)
      pong(atoi(argv[1]), atoi(argv[2]));
   else if (argc == 3)
      down(atoi(argv[1]), atoi(argv[2]));
   else
      return 1;
   return 0;
}
