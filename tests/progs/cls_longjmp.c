/* longjmp past the allocating frame: allocated in thrower (called by
   middle, called by main), its address stored in main's local, freed in
   main after the longjmp: caller, home main at depth 2. */
#include <setjmp.h>
#include "cls_common.h"

static jmp_buf env;

NOINLINE static void thrower(char* volatile* slot)
{
   char* p = malloc(64); /* ALLOC-HERE */
   fill(p, 64);
   *slot = p; /* STORE-HERE */
   longjmp(env, 1);
}

NOINLINE static void middle(char* volatile* slot)
{
   thrower(slot);
   use(*slot);   /* never reached */
}

int main(void)
{
   char* volatile slot = NULL;
   if (setjmp(env) == 0) {
      middle(&slot);
      return 1;
   }
   use(slot);
   free(slot); /* FREE-HERE */
   return 0;
}
