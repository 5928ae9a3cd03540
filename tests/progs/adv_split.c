/* One allocating line, two paths: via local_path() the block is freed in
 * make() itself; via keep_path() make() returns it and main() frees it
 * later.  Expected: no use_stack_allocation (a local array would break the
 * returning path), and a split_paths suggestion naming keep_path(). */
#include "cls_common.h"

NOINLINE static char* make(int keep)
{
   char* p = malloc(48); /* MARK:alloc */
   fill(p, 48);
   if (!keep) {
      use(p);
      free(p); /* MARK:free_local */
      return NULL;
   }
   return p;
}

NOINLINE static void local_path(void) { make(0); }
NOINLINE static char* keep_path(void) { return make(1); }

int main(void)
{
   int i;
   for (i = 0; i < 30; i++) local_path();
   for (i = 0; i < 10; i++) {
      char* q = keep_path();
      use(q);
      free(q); /* MARK:free_main */
   }
   return 0;
}
