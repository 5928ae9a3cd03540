/* One allocating line, two paths: via local_path() the block is freed in
 * make() itself; via keep_path() make() returns it and main() frees it
 * later.  Expected: no use_stack_allocation (a local array would break the
 * returning path), and a split_paths suggestion naming keep_path().
 * argv[1] == "twice": main() also keeps blocks from a second call line of
 * keep_path(): the same path to a reader, named once. */
#include <string.h>
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

/* Work after the calls keeps them real calls at -O2 (not tail calls), so
   each path has its own frame and its own site. */
NOINLINE static void local_path(void) { make(0); cls_sink++; }
NOINLINE static char* keep_path(void) { char* q = make(1); cls_sink++; return q; }

int main(int argc, char** argv)
{
   int i;
   for (i = 0; i < 30; i++) local_path();
   for (i = 0; i < 10; i++) {
      char* q = keep_path();
      use(q);
      free(q); /* MARK:free_main */
   }
   if (argc > 1 && strcmp(argv[1], "twice") == 0)
      for (i = 0; i < 5; i++) {
         char* q = keep_path();
         use(q);
         free(q);
      }
   return 0;
}
