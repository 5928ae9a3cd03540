/* VALGRIND_MEMPOOL_TRIM keeps the blocks inside a range, frees those
 * outside it and cuts the one straddling its end.  Blocks of 32 bytes at
 * arena + 64*i.  Expected (the pool is never destroyed):
 *   drop_part(): 3 blocks outside the kept range -> freed by the trim in
 *     main: caller 3, home main;
 *   keep_part(): 2 blocks inside it -> never freed (never_freed 2);
 *   cut_part(): 1 block straddling the end of the range -> cut to 16 bytes
 *     (reallocs 1), never freed.
 * Totals: 6 blocks, no warnings. */
#include <stdio.h>
#include <valgrind/valgrind.h>

static char arena[1024];

__attribute__((noipa)) static void carve(int slot, size_t n)
{
    VALGRIND_MEMPOOL_ALLOC(arena, arena + 64 * slot, n);
}

__attribute__((noipa)) static void drop_part(void) { carve(0, 32); carve(1, 32); carve(6, 32); }
__attribute__((noipa)) static void keep_part(void) { carve(2, 32); carve(3, 32); }
__attribute__((noipa)) static void cut_part(void) { carve(4, 32); }

int main(void)
{
    VALGRIND_CREATE_MEMPOOL(arena, 0, 0);
    drop_part();
    keep_part();
    cut_part();
    /* keep [arena+128, arena+272): slots 2, 3 and the first 16 bytes of 4 */
    VALGRIND_MEMPOOL_TRIM(arena, arena + 128, 144);
    printf("trimmed\n");
    return 0;
}
