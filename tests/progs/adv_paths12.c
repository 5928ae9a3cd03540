/* One allocating line reached from 12 call stacks, each with its own
 * constant size (8, 16, ... 96 bytes); every block is freed in fill_and_sum()
 * itself.  Expected (tests/test_advice_lines.py): 12 sites, exactly one
 * use_stack_allocation for the line, sized for the largest (96 bytes),
 * covering all 12 sites, easy. */
#include "cls_common.h"

NOINLINE static long fill_and_sum(int n)
{
   char* p = malloc(n); /* MARK:alloc */
   fill(p, n);
   long s = use(p);
   free(p); /* MARK:free */
   return s;
}

#define CALLER(k) NOINLINE static long c##k(void) { return fill_and_sum(8 * k); }
CALLER(1) CALLER(2) CALLER(3) CALLER(4) CALLER(5) CALLER(6)
CALLER(7) CALLER(8) CALLER(9) CALLER(10) CALLER(11) CALLER(12)

int main(void)
{
   int i;
   for (i = 0; i < 10; i++) {
      cls_sink += c1() + c2() + c3() + c4() + c5() + c6();
      cls_sink += c7() + c8() + c9() + c10() + c11() + c12();
   }
   return 0;
}
