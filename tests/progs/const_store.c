/* Pointers stored as immediates.  Built -no-pie, the address of a static
   buffer is a link-time constant, so `g_ptr = arena + 64` is one store of
   a constant: the tool skips only constants that cannot be block
   addresses (below vm.mmap_min_addr, or 2^63 and above), never these.
   The buffer is a custom allocator's block (VALGRIND_MALLOCLIKE_BLOCK). */
#include <stdint.h>
#include "valgrind.h"

static char arena[4096] __attribute__((aligned(64)));
void* volatile g_ptr;
volatile uintptr_t g_small;

__attribute__((noinline)) static void publish(void)
{
   g_ptr = arena + 64;          /* CONST-ESCAPE */
   g_small = 4095;              /* small constants: never a block */
   g_small = 0;
}

int main(void)
{
   VALGRIND_MALLOCLIKE_BLOCK(arena + 64, 64, 0, 0);
   publish();
   VALGRIND_FREELIKE_BLOCK(arena + 64, 0);
   return 0;
}
