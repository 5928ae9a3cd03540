/* Frees through a function pointer (as cJSON's hooks do): the shadow
 * frame of such a call is libc's own free (the call's target before
 * Valgrind redirects it).  Expected: free_sites names work() itself and
 * use_stack_allocation is easy. */
#include "cls_common.h"

typedef struct { void* (*allocate)(size_t); void (*deallocate)(void*); } hooks_t;
static hooks_t hooks = { malloc, free };

NOINLINE static void work(void)
{
   char* p = hooks.allocate(32); /* MARK:alloc */
   fill(p, 32);
   use(p);
   hooks.deallocate(p); /* MARK:free */
}

int main(void)
{
   int i;
   for (i = 0; i < 40; i++) work();
   return 0;
}
