/* Shrinking realloc: malloc 256, realloc to 11.  Expected min_size 11,
 * max_size 256 (the range covers every size a block had). */
#include "cls_common.h"

NOINLINE static void shrink(void)
{
   char* p = malloc(256); /* MARK:alloc */
   fill(p, 256);
   p = realloc(p, 11);
   use(p);
   free(p);
}

int main(void)
{
   shrink();
   shrink();
   return 0;
}
