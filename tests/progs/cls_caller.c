/* Callee allocates, caller frees: caller, depth 1, home = the caller.
   Out-parameter into the caller's local: caller, depth 1.  Address stored
   in the caller's local, block freed by the allocating function: caller
   (a store outside the allocating frame). */
#include "cls_common.h"

NOINLINE static char* make_buf(int n)
{
   char* p = malloc(n); /* ALLOC-MAKE */
   fill(p, n);
   return p;
}

NOINLINE static void consumer(void)
{
   char* p = make_buf(24);
   use(p);
   free(p);
}

NOINLINE static void make_out(char** out)
{
   char* p = malloc(40); /* ALLOC-OUT */
   fill(p, 40);
   *out = p; /* STORE-OUT */
}

NOINLINE static void out_user(void)
{
   char* p;
   make_out(&p);
   use(p);
   free(p);
}

NOINLINE static void store_up_then_free(char** slot)
{
   char* p = malloc(56); /* ALLOC-UP */
   fill(p, 56);
   *slot = p;
   use(p);
   free(p);
}

NOINLINE static void up_owner(void)
{
   char* slot;
   store_up_then_free(&slot);
}

int main(void)
{
   int i;
   for (i = 0; i < cls_two; i++) consumer();
   for (i = 0; i < cls_four; i++) out_user();
   up_owner();
   return 0;
}
