/* A block freed inside a callee: work() allocates, release() frees it.
 * Expected: free_sites names release() at MARK:free; use_stack_allocation
 * is not easy and names that free. */
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
}

int main(void)
{
   int i;
   for (i = 0; i < 50; i++) work();
   return 0;
}
