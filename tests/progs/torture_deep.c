/* Allocations at the bottom of a deep recursion (stacks longer than any
   --depth and than --num-callers). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static long down(int n)
{
   long r;
   char* p;
   if (n == 0) {
      p = malloc(24);
      p[0] = 5;
      r = p[0];
      free(p);
      return r;
   }
   r = down(n - 1) + 1;
   __asm__ __volatile__("" ::: "memory");
   return r;
}

int main(void)
{
   long s = 0;
   int i;
   for (i = 0; i < 10; i++) s += down(40 + i);
   printf("deep %ld\n", s);
   return 2;
}
