/* Random pool requests, valid and not (fixed seed): the tool must neither
 * crash nor lose count.  Four handles (one a METAPOOL|AUTO_FREE one) over
 * one arena; blocks at 16-byte slots.  argv[1]: number of operations,
 * argv[2]: the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

#define SLOTS 64
static char arena[SLOTS * 16 + 64];
static int handles[4];
static unsigned long long rng = 12345;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng >> 33) % n;
}

static char *slot(void) { return arena + 16 * rnd(SLOTS); }
static int *handle(void) { return &handles[rnd(4)]; }

int main(int argc, char **argv)
{
    int ops = argc > 1 ? atoi(argv[1]) : 2000;
    if (argc > 2) rng = strtoull(argv[2], 0, 10);
    for (int i = 0; i < ops; i++) {
        switch (rnd(12)) {
        case 0: {
            int *h = handle();
            if (h == &handles[3])
                VALGRIND_CREATE_MEMPOOL_EXT(h, 0, 0, VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE);
            else
                VALGRIND_CREATE_MEMPOOL(h, 0, 0);
            break;
        }
        case 1: VALGRIND_DESTROY_MEMPOOL(handle()); break;
        case 2: case 3: VALGRIND_MEMPOOL_ALLOC(handle(), slot(), rnd(48)); break;
        case 4: case 5: VALGRIND_MEMPOOL_FREE(handle(), slot()); break;
        case 6: VALGRIND_MEMPOOL_TRIM(handle(), slot(), rnd(256)); break;
        case 7: VALGRIND_MOVE_MEMPOOL(handle(), handle()); break;
        case 8: VALGRIND_MEMPOOL_CHANGE(handle(), slot(), slot(), rnd(48)); break;
        case 9: VALGRIND_MALLOCLIKE_BLOCK(slot(), rnd(32), 0, 0); break;
        case 10: VALGRIND_FREELIKE_BLOCK(slot(), 0); break;
        case 11: (void)VALGRIND_MEMPOOL_EXISTS(handle()); break;
        }
    }
    printf("random done\n");
    return 0;
}
