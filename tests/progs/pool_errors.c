/* Every other misused pool request, once each (pool #1 = a1, #2 = a2,
 * #3 = the metapool).  Expected warnings, in order:
 *   CREATE_MEMPOOL with the handle of pool #1 again;
 *   CREATE_MEMPOOL with a null handle (then an ALLOC through it: no pool);
 *   pool #2 has AUTO_FREE without METAPOOL;
 *   DESTROY, TRIM and MOVE of an address that is not a memory pool;
 *   MOVE onto the handle of pool #2;
 *   MEMPOOL_CHANGE moving a block onto another tracked block;
 *   MEMPOOL_CHANGE of a block of pool #1 through no pool;
 *   MEMPOOL_FREE through pool #1 of a malloc'd block;
 *   MEMPOOL_FREE through pool #1 of a MALLOCLIKE block;
 *   MEMPOOL_FREE of a chunk of the metapool #3 through pool #1.
 * The metapool chunk, shrunk with MEMPOOL_CHANGE, is then freed through
 * its pool: AUTO_FREE frees the 2 objects inside (frame 2, in main).
 * bad_frees 4 (the CHANGE through no pool and the three refused frees). */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

static char a1[256], a2[256], chunk[512], loose[64];
static int np, np2;
static char meta;

int main(void)
{
    VALGRIND_CREATE_MEMPOOL(a1, 0, 0);
    VALGRIND_CREATE_MEMPOOL(a1, 0, 0);
    VALGRIND_CREATE_MEMPOOL(0, 0, 0);
    VALGRIND_MEMPOOL_ALLOC(0, a2, 8);
    VALGRIND_CREATE_MEMPOOL_EXT(a2, 0, 0, VALGRIND_MEMPOOL_AUTO_FREE);
    VALGRIND_DESTROY_MEMPOOL(&np);
    VALGRIND_MEMPOOL_TRIM(&np, a1, 0);
    VALGRIND_MOVE_MEMPOOL(&np, &np2);
    VALGRIND_MOVE_MEMPOOL(a1, a2);
    VALGRIND_MEMPOOL_ALLOC(a1, a1, 16);
    VALGRIND_MEMPOOL_ALLOC(a1, a1 + 32, 16);
    VALGRIND_MEMPOOL_CHANGE(a1, a1, a1 + 32, 16);
    VALGRIND_MEMPOOL_CHANGE(&np, a1, a1 + 64, 8);
    char *m = malloc(8);
    VALGRIND_MEMPOOL_FREE(a1, m);
    VALGRIND_MALLOCLIKE_BLOCK(loose, 8, 0, 0);
    VALGRIND_MEMPOOL_FREE(a1, loose);
    VALGRIND_CREATE_MEMPOOL_EXT(&meta, 0, 0, VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE);
    VALGRIND_MEMPOOL_ALLOC(&meta, chunk, 512);
    VALGRIND_MALLOCLIKE_BLOCK(chunk + 8, 16, 0, 0);
    VALGRIND_MALLOCLIKE_BLOCK(chunk + 24, 16, 0, 0);
    VALGRIND_MEMPOOL_FREE(a1, chunk);
    VALGRIND_MEMPOOL_CHANGE(&meta, chunk, chunk, 256);
    VALGRIND_MEMPOOL_FREE(&meta, chunk);
    free(m);
    VALGRIND_FREELIKE_BLOCK(loose, 0);
    VALGRIND_DESTROY_MEMPOOL(&meta);
    VALGRIND_DESTROY_MEMPOOL(a1);
    VALGRIND_DESTROY_MEMPOOL(a2);
    printf("errors done\n");
    return 0;
}
