/* Frees through the wrong pool.  Two pools, A created in make_a() and B in
 * make_b(); blocks of A.  Expected:
 *   free through B of a block of A, three times from one line -> one
 *     warning naming pool #1 (make_a) and pool #2 (make_b), bad_frees 3,
 *     and the block stays in A;
 *   free through a handle that is no pool -> one warning ("not a memory
 *     pool"), the block stays;
 *   the right frees through A afterwards -> no warning (no false double free);
 *   a second free through A of the same block -> one double-free warning;
 *   VALGRIND_MEMPOOL_ALLOC through no pool -> one warning, nothing tracked.
 * Totals: 2 pool blocks (site in use_pool), bad_frees 5. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

static char arena_a[256], arena_b[256];
static int not_a_pool;

__attribute__((noipa)) static void make_a(void) { VALGRIND_CREATE_MEMPOOL(arena_a, 0, 0); }
__attribute__((noipa)) static void make_b(void) { VALGRIND_CREATE_MEMPOOL(arena_b, 0, 0); }

__attribute__((noipa)) static void free_via(void *pool, void *p)
{
    VALGRIND_MEMPOOL_FREE(pool, p);
}

__attribute__((noipa)) static void use_pool(void)
{
    char *x = arena_a, *y = arena_a + 64;
    VALGRIND_MEMPOOL_ALLOC(arena_a, x, 16);
    VALGRIND_MEMPOOL_ALLOC(arena_a, y, 16);
    for (int i = 0; i < 3; i++)
        free_via(arena_b, x);            /* wrong pool */
    free_via(&not_a_pool, y);            /* no pool at all */
    free_via(arena_a, x);                /* right */
    free_via(arena_a, y);                /* right */
    free_via(arena_a, x);                /* double free */
    VALGRIND_MEMPOOL_ALLOC(&not_a_pool, arena_b, 8);
}

int main(void)
{
    make_a();
    make_b();
    use_pool();
    printf("exists %u %u %u\n", VALGRIND_MEMPOOL_EXISTS(arena_a),
           VALGRIND_MEMPOOL_EXISTS(arena_b), VALGRIND_MEMPOOL_EXISTS(&not_a_pool));
    VALGRIND_DESTROY_MEMPOOL(arena_a);
    VALGRIND_DESTROY_MEMPOOL(arena_b);
    return 0;
}
