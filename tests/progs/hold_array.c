/* A temporary array of pointers and the strings it points at, all freed
   in the function that made them: the strings are held only by the array,
   which is frame, so they are frame too (freed before their holder: their
   verdict waits for it). */
#include "cls_common.h"

NOINLINE static long tmp_array(int n)
{
   char** arr = malloc(n * sizeof *arr); /* ALLOC-ARR */
   long sum = 0;
   int i;
   for (i = 0; i < n; i++) {
      arr[i] = malloc(16); /* ALLOC-STR */
      fill(arr[i], 16);
   }
   for (i = 0; i < n; i++) sum += use(arr[i]);
   for (i = 0; i < n; i++) free(arr[i]);
   free(arr);
   return sum;
}

int main(void)
{
   int k;
   for (k = 0; k < cls_two; k++) tmp_array(cls_four);
   return 0;
}
