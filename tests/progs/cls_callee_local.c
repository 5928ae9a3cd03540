/* The pointer is kept only in a callee's locals: still frame. */
#include "cls_common.h"

NOINLINE static long keeper(char* p)
{
   char* volatile kept = p;   /* the callee's own stack slot */
   char* volatile again = kept + 3;
   return use(kept) + use(again);
}

NOINLINE static void owner(void)
{
   char* p = malloc(48); /* ALLOC-HERE */
   fill(p, 48);
   keeper(p);
   free(p);
}

int main(void)
{
   int i;
   for (i = 0; i < cls_two; i++) owner();
   return 0;
}
