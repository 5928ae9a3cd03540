/* A custom allocator carving blocks out of one malloc'd arena and telling
 * the tool with VALGRIND_MALLOCLIKE_BLOCK / VALGRIND_FREELIKE_BLOCK /
 * VALGRIND_RESIZEINPLACE_BLOCK.  pool_alloc() issues the request, so it is
 * the depth-0 frame of the custom site (unless --alloc-fn=pool_alloc).
 * Expected:
 *   site stack[0] = arena_init:  1 block, 4096 bytes (the arena, malloc), freed at the end
 *   site [pool_alloc, use_pool, main]: 10 blocks of 32 bytes (320 bytes), all
 *      live at once (max_live 10), each freed before use_pool returns, reallocs 0
 *   site [pool_alloc, grow_one, main]: 1 block of 16 bytes resized in place
 *      to 48: bytes 48, min_size 16, max_size 48, reallocs 1
 *   With --alloc-fn=pool_alloc the pool_alloc frame is removed: stack[0] is
 *      use_pool (10 blocks, 320 bytes) and grow_one (1 block, 48 bytes).
 *   peak_live_bytes 4096 + 320 = 4416 (custom blocks count on top of the arena).
 * Totals: 12 blocks, 4096 + 368 = 4464 bytes, never_freed 0, bad_frees 0. */
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

static char *arena;
static size_t arena_used;

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static void arena_init(void)
{
    arena = malloc(4096);
    memset(arena, 0, 4096);
    arena_used = 0;
}

/* Leaves a 16-byte gap after each block, so in-place growth has room. */
__attribute__((noinline)) static void *pool_alloc(size_t n)
{
    char *p = arena + arena_used;
    arena_used += (n + 16 + 15) & ~(size_t)15;
    VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
    return p;
}

__attribute__((noinline)) static void pool_free(void *p)
{
    VALGRIND_FREELIKE_BLOCK(p, 0);
}

__attribute__((noinline)) static int use_pool(void)
{
    char *b[10];
    int s = 0;
    for (int i = 0; i < 10; i++) {
        b[i] = pool_alloc(32);
        memset(b[i], i, 32);
    }
    for (int i = 0; i < 10; i++) {
        s += consume(b[i], 32);
        pool_free(b[i]);
    }
    return s;
}

__attribute__((noinline)) static int grow_one(void)
{
    char *p = pool_alloc(16);
    memset(p, 1, 16);
    VALGRIND_RESIZEINPLACE_BLOCK(p, 16, 48, 0);
    memset(p, 2, 48);
    int s = consume(p, 48);
    pool_free(p);
    return s;
}

int main(void)
{
    volatile int sink;
    arena_init();
    sink = use_pool();
    sink += grow_one();
    free(arena);
    (void)sink;
    return 0;
}
