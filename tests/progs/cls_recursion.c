/* 10,000 nested frames, each allocating and freeing a block: 10,000
   frame blocks. */
#include "cls_common.h"

NOINLINE static long rec(int n)
{
   char* p = malloc(16); /* ALLOC-HERE */
   long r;
   fill(p, 16);
   r = n > 0 ? rec(n - 1) : 0;
   r += use(p);
   free(p);
   return r;
}

int main(void)
{
   return rec(9999) == 12345 ? 1 : 0;
}
