/* A block freed in an atexit handler, after main returned: outlived.  The
   pointer is kept disguised (XOR'd) so that no pointer store is seen. */
#include "cls_common.h"

#define MASK 0x5a5a5a5a5a5a5a5aUL
static volatile unsigned long g_hidden;

NOINLINE static void at_exit_free(void)
{
   char* p = (char*)(g_hidden ^ MASK);
   use(p);
   free(p); /* FREE-HERE */
}

NOINLINE static void make_hidden(void)
{
   char* p = malloc(16); /* ALLOC-HERE */
   fill(p, 16);
   g_hidden = (unsigned long)p ^ MASK;
}

int main(void)
{
   atexit(at_exit_free);
   make_hidden();
   return 0;
}
