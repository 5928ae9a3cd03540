/* A dump while freed blocks wait for their holder: the dump counts them
   as if the program ended there (their live holder never freed: heap);
   the final report, after the holder is freed, says frame. */
#include "stackheap.h"
#include "cls_common.h"

NOINLINE static void strings_then_dump(void)
{
   char** arr = malloc(3 * sizeof *arr); /* ALLOC-ARR */
   int i;
   for (i = 0; i < 3; i++) {
      arr[i] = malloc(16); /* ALLOC-STR */
      fill(arr[i], 16);
   }
   for (i = 0; i < 3; i++) free(arr[i]);
   SH_DUMP_REPORT("waiting");
   free(arr);
}

int main(void)
{
   strings_then_dump();
   return 0;
}
