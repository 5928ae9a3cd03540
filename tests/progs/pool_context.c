/* A memory-context allocator in the style of PostgreSQL's palloc: a
 * context is a memory pool (VALGRIND_CREATE_MEMPOOL on the context), its
 * blocks are carved from a malloc'd arena with VALGRIND_MEMPOOL_ALLOC,
 * a reset frees them all (VALGRIND_MEMPOOL_TRIM to nothing) and a delete
 * destroys the pool.  Run with --alloc-fn=palloc --alloc-fn=ctx_create.
 * Expected:
 *   work(): a context created, 5 blocks of 32 bytes carved, the context
 *     reset, 3 more carved, the context deleted, all in work() -> the
 *     palloc site in work has 8 blocks, classes frame 8, home work depth 0,
 *     pool.created_at work (the ctx_create line), a use_stack_allocation
 *     suggestion that speaks of the pool;
 *   leaky(): 1 block of 24 bytes whose address is stored in the global
 *     g_keep before the context is deleted -> class global;
 *   the arenas: 2 malloc blocks of 4096 bytes, no pool.
 * Totals: 11 blocks, no warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>

typedef struct {
    char *arena;
    size_t used;
} Context;

void *g_keep;

__attribute__((noipa)) static Context *ctx_create(void)
{
    Context *c = malloc(sizeof *c);
    c->arena = malloc(4096);
    c->used = 0;
    VALGRIND_CREATE_MEMPOOL(c, 0, 0);
    return c;
}

__attribute__((noipa)) static void *palloc(Context *c, size_t n)
{
    void *p = c->arena + c->used;
    c->used += (n + 15) & ~(size_t)15;
    VALGRIND_MEMPOOL_ALLOC(c, p, n);
    return p;
}

__attribute__((noipa)) static void ctx_reset(Context *c)
{
    VALGRIND_MEMPOOL_TRIM(c, c->arena, 0);
    c->used = 0;
}

__attribute__((noipa)) static void ctx_delete(Context *c)
{
    VALGRIND_DESTROY_MEMPOOL(c);
    free(c->arena);
    free(c);
}

__attribute__((noipa)) static long work(void)
{
    Context *c = ctx_create();
    long s = 0;
    for (int i = 0; i < 5; i++) {
        char *p = palloc(c, 32);
        p[0] = (char)i;
        s += p[0];
    }
    ctx_reset(c);
    for (int i = 0; i < 3; i++) {
        char *p = palloc(c, 32);
        p[31] = 1;
        s += p[31];
    }
    ctx_delete(c);
    return s;
}

__attribute__((noipa)) static void leaky(void)
{
    Context *c = ctx_create();
    char *p = palloc(c, 24);
    p[0] = 1;
    g_keep = p;
    ctx_delete(c);
}

int main(void)
{
    long s = work();
    leaky();
    printf("context %ld\n", s);
    return 0;
}
