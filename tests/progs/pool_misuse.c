/* Frees that name what happened.  Expected warnings, each printed once with
 * its stack however often it happens:
 *   free() of a pointer that realloc() moved (3 times, one line)
 *     -> "realloc() had already moved", bad_frees 3;
 *   VALGRIND_FREELIKE_BLOCK of a malloc'd block -> "allocated by malloc()",
 *     the block stays live and free() then frees it without a warning;
 *   VALGRIND_FREELIKE_BLOCK of a pool block -> "memory pool's block";
 *   free() of a MALLOCLIKE block -> "custom allocator's block", the block
 *     stays live and FREELIKE then frees it.
 * Totals: bad_frees 6. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

static char arena[64];
static char custom_mem[64];

__attribute__((noipa)) static void stale_free(void)
{
    for (int i = 0; i < 3; i++) {
        char *p = malloc(16);
        char *q = realloc(p, 4096);      /* grows: moves */
        if (q != p)
            free(p);                     /* already freed by realloc */
        free(q);
    }
}

__attribute__((noipa)) static void freelike_malloc(void)
{
    char *m = malloc(32);
    VALGRIND_FREELIKE_BLOCK(m, 0);
    free(m);
}

__attribute__((noipa)) static void freelike_pool(void)
{
    VALGRIND_CREATE_MEMPOOL(arena, 0, 0);
    VALGRIND_MEMPOOL_ALLOC(arena, arena, 8);
    VALGRIND_FREELIKE_BLOCK(arena, 0);
    VALGRIND_DESTROY_MEMPOOL(arena);
}

__attribute__((noipa)) static void free_custom(void)
{
    VALGRIND_MALLOCLIKE_BLOCK(custom_mem, 16, 0, 0);
    free(custom_mem);
    VALGRIND_FREELIKE_BLOCK(custom_mem, 0);
}

int main(void)
{
    stale_free();
    freelike_malloc();
    freelike_pool();
    free_custom();
    printf("misuse done\n");
    return 0;
}
