/* VALGRIND_MOVE_MEMPOOL, VALGRIND_MEMPOOL_CHANGE and VALGRIND_MEMPOOL_EXISTS.
 * A pool created with handle &old_h in fill() holds 3 blocks of 16 bytes;
 * it moves to handle &new_h.  Expected:
 *   EXISTS: old 0, new 1 after the move (printed "exists 0 1");
 *   a free through the old handle -> one "not a memory pool" warning;
 *   the block at slot 1 moved by MEMPOOL_CHANGE to slot 5 with 48 bytes:
 *     same site (fill), reallocs 1, max_size 48, freed through the new handle
 *     at its new address without a warning;
 *   DESTROY through the new handle frees the rest.
 * All 3 blocks freed in main -> caller 3, home main; bad_frees 1. */
#include <stdio.h>
#include <valgrind/valgrind.h>

static char arena[512];
static int old_h, new_h;

__attribute__((noipa)) static void fill(void)
{
    VALGRIND_CREATE_MEMPOOL(&old_h, 0, 0);
    for (int i = 0; i < 3; i++)
        VALGRIND_MEMPOOL_ALLOC(&old_h, arena + 64 * i, 16);
}

int main(void)
{
    fill();
    VALGRIND_MOVE_MEMPOOL(&old_h, &new_h);
    printf("exists %u %u\n", VALGRIND_MEMPOOL_EXISTS(&old_h), VALGRIND_MEMPOOL_EXISTS(&new_h));
    VALGRIND_MEMPOOL_FREE(&old_h, arena);               /* no longer a pool */
    VALGRIND_MEMPOOL_FREE(&new_h, arena);
    VALGRIND_MEMPOOL_CHANGE(&new_h, arena + 64, arena + 320, 48);
    arena[320 + 47] = 1;
    VALGRIND_MEMPOOL_FREE(&new_h, arena + 320);
    VALGRIND_DESTROY_MEMPOOL(&new_h);
    return 0;
}
