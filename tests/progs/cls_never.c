/* Never freed. */
#include "cls_common.h"

NOINLINE static void leak(void)
{
   char* p = malloc(16); /* ALLOC-HERE */
   fill(p, 16);
   use(p);
}

int main(void)
{
   int i;
   for (i = 0; i < cls_two; i++) leak();
   return 0;
}
