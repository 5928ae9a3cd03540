/* METAPOOL and AUTO_FREE (VALGRIND_CREATE_MEMPOOL_EXT).  A pool's chunk is
 * declared with VALGRIND_MEMPOOL_ALLOC; the program's objects are carved
 * from it with VALGRIND_MALLOCLIKE_BLOCK (obj_alloc).  argv[1]:
 *   "auto":  METAPOOL|AUTO_FREE; build() frees the chunk, which frees the 10
 *            objects inside it -> obj site: 10 blocks, frame 10 (home build);
 *            the chunk is no block (not counted twice); no warning.
 *   "meta":  METAPOOL only; the chunk freed, the objects stay -> obj site:
 *            10 blocks never_freed; the chunk is no block; no warning.
 *   "plain": no flags; the chunk is a pool block of its own (1 block of 1024
 *            bytes, site chunk_alloc) and the objects nest inside it without
 *            an overlap warning; objects never_freed, chunk freed (frame).
 *   "leave": no flags, and neither the chunk freed nor the pool destroyed:
 *            at exit the 10 objects still nest in a live block of a pool that
 *            is no METAPOOL (memcheck aborts on this) -> one warning at exit.
 * Run with --alloc-fn=obj_alloc --alloc-fn=chunk_alloc. */
#include <stdio.h>
#include <string.h>
#include <valgrind/valgrind.h>

static char pool_anchor;
static char chunk_mem[1024];
static size_t used;

__attribute__((noipa)) static void *chunk_alloc(void)
{
    VALGRIND_MEMPOOL_ALLOC(&pool_anchor, chunk_mem, sizeof chunk_mem);
    used = 8;   /* chunk header, so no object starts at the chunk's start */
    return chunk_mem;
}

__attribute__((noipa)) static void *obj_alloc(size_t n)
{
    void *p = chunk_mem + used;
    used += n;
    VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
    return p;
}

__attribute__((noipa)) static long build(int free_chunk)
{
    long s = 0;
    chunk_alloc();
    for (int i = 0; i < 10; i++) {
        char *o = obj_alloc(16);
        o[0] = (char)i;
        s += o[0];
    }
    if (free_chunk)
        VALGRIND_MEMPOOL_FREE(&pool_anchor, chunk_mem);
    return s;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "auto";
    int flags = strcmp(mode, "auto") == 0 ? VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE
              : strcmp(mode, "meta") == 0 ? VALGRIND_MEMPOOL_METAPOOL : 0;
    VALGRIND_CREATE_MEMPOOL_EXT(&pool_anchor, 0, 0, flags);
    int leave = strcmp(mode, "leave") == 0;
    long s = build(!leave);
    if (!leave)
        VALGRIND_DESTROY_MEMPOOL(&pool_anchor);
    printf("%s %ld\n", mode, s);
    return 0;
}
