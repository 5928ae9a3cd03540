/* Memory-pool client requests (VALGRIND_CREATE_MEMPOOL and friends).
   Expected, with --alloc-fn=mp_alloc:
     use_and_free(): 6 blocks of 40 bytes, freed with MEMPOOL_FREE in
       use_and_free itself -> frame 6, home use_and_free (depth 0);
     keep_till_destroy(): 4 blocks of 24 bytes left in the pool and freed
       by VALGRIND_DESTROY_MEMPOOL called from main -> caller 4, home main;
     changed(): 1 block of 16 bytes, grown in place to 64 with
       MEMPOOL_CHANGE (one realloc, bytes 64), then freed -> frame 1.
   Totals: 11 blocks, 6*40 + 4*24 + 64 = 400 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

static char *arena;
static size_t used;

__attribute__((noipa)) static void *mp_alloc(size_t n)
{
    void *p = arena + used;
    used += (n + 15) & ~(size_t)15;
    VALGRIND_MEMPOOL_ALLOC(arena, p, n);
    return p;
}

__attribute__((noipa)) static void mp_free(void *p)
{
    VALGRIND_MEMPOOL_FREE(arena, p);
}

__attribute__((noipa)) static long use_and_free(void)
{
    long s = 0;
    for (int i = 0; i < 6; i++) {
        char *p = mp_alloc(40);
        p[0] = (char)i;
        s += p[0];
        mp_free(p);
    }
    return s;
}

__attribute__((noipa)) static void keep_till_destroy(void)
{
    for (int i = 0; i < 4; i++) {
        char *p = mp_alloc(24);
        p[0] = 1;
    }
}

__attribute__((noipa)) static void changed(void)
{
    char *p = mp_alloc(16);
    VALGRIND_MEMPOOL_CHANGE(arena, p, p, 64);
    p[63] = 1;
    mp_free(p);
}

int main(void)
{
    arena = malloc(4096);
    VALGRIND_CREATE_MEMPOOL(arena, 0, 0);
    long s = use_and_free();
    keep_till_destroy();
    changed();
    VALGRIND_DESTROY_MEMPOOL(arena);
    free(arena);
    printf("mempool %ld\n", s);
    return 0;
}
