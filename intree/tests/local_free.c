/* Three blocks freed in the frame that allocated them (could have lived
   on its stack) and one stored in a global (could not). */
#include <stdlib.h>
#include <string.h>

char* kept;

__attribute__((noinline)) static void local_buf(void)
{
   char* p = malloc(32);
   memset(p, 1, 32);
   free(p);
}

__attribute__((noinline)) static void keep(void)
{
   kept = malloc(16);
   memset(kept, 2, 16);
}

int main(void)
{
   int i;
   for (i = 0; i < 3; i++) local_buf();
   keep();
   free(kept);
   return 0;
}
