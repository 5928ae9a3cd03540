/* A block freed inside a callee: work() allocates, release() frees it.
 * Expected: free_sites names release() at its free; use_stack_allocation
 * is not easy and names that free.  work() does something after the call,
 * so that at -O2 release() is a real call (a tail call would run release()
 * in work()'s frame: the tool could not tell them apart).  release()'s own
 * free may be a tail call at -O2: it is then named by release()'s entry. */
#include "cls_common.h"

NOINLINE static void release(char* p)
{
   use(p);
   free(p); /* MARK:free */
}

NOINLINE static void work(void)
{
   char* p = malloc(64); /* MARK:alloc */
   fill(p, 64);
   release(p);
   cls_sink++;
}

int main(void)
{
   int i;
   for (i = 0; i < 50; i++) work();
   return 0;
}
