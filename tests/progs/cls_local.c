/* Local malloc/free: frame, depth 0.  Also freed by a callee of the
   allocating function (still frame), and allocated and freed in main
   itself (main's frame is a home). */
#include "cls_common.h"

NOINLINE static void local_buf(void)
{
   char* p = malloc(32); /* ALLOC-HERE */
   fill(p, 32);
   use(p);
   free(p);
}

NOINLINE static void release(char* p)
{
   use(p);
   free(p);
}

NOINLINE static void freed_by_callee(void)
{
   char* p = malloc(36); /* ALLOC-CALLEE-FREES */
   fill(p, 36);
   release(p);
}

int main(void)
{
   int i;
   char* m;
   for (i = 0; i < cls_three; i++) local_buf();
   for (i = 0; i < cls_two; i++) freed_by_callee();
   m = malloc(8); /* ALLOC-MAIN */
   fill(m, 8);
   use(m);
   free(m);
   return 0;
}
