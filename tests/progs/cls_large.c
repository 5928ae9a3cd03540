/* An 8 KB block freed locally: too_large with the default --max-stack-block
   (4096), frame with --max-stack-block=16384. */
#include "cls_common.h"

NOINLINE static void big_local(void)
{
   char* p = malloc(8192); /* ALLOC-HERE */
   fill(p, 64);
   use(p);
   free(p);
}

int main(void)
{
   big_local();
   return 0;
}
