/* A block the program declares over its own code (VALGRIND_MALLOCLIKE_BLOCK
   on a function's bytes), whose address it then stores as a constant.
   The tool skips stores of constants that point into the storing code's
   own file mapping (a call's return address, mostly: no malloc'd block
   lives there), until the program declares a block over a file mapping;
   then every such store is checked, in code translated before the
   declaration too (publish runs once before it). */
#include "valgrind.h"

void* volatile g_fn;

__attribute__((noinline)) void target(void) { __asm__ volatile("nop; nop; nop; nop"); }

__attribute__((noinline)) static void publish(void)
{
   g_fn = (void*)&target;          /* CODE-ESCAPE */
}

int main(void)
{
   publish();
   VALGRIND_MALLOCLIKE_BLOCK((char*)&target, 16, 0, 0);
   publish();
   VALGRIND_FREELIKE_BLOCK((char*)&target, 0);
   return 0;
}
