/* Allocation wrappers, for --alloc-fn.
 *   use_x():   xmalloc(48) 5 times        (xmalloc calls malloc)
 *   use_my_a(): my_alloc(16) 3 times       (my_alloc calls malloc)
 *   use_my_b(): my_zalloc(4, 8) 2 times    (my_zalloc calls calloc; 32 bytes each)
 * Without --alloc-fn: sites stack[0] = xmalloc (5 blocks, 240 bytes, stack[1]
 *   use_x), my_alloc (3 blocks, 48 bytes), my_zalloc (2 blocks, 64 bytes).
 * With --alloc-fn=xmalloc: stack[0] = use_x, no xmalloc frame in any stack.
 * With --alloc-fn='my_*': stack[0] = use_my_a (3, 48) and use_my_b (2, 64).
 * Totals: 10 blocks, 352 bytes, all freed in the function that called the
 * wrapper (class caller without --alloc-fn, frame with it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) abort();
    return p;
}

__attribute__((noinline)) void *my_alloc(size_t n)
{
    void *p = malloc(n);
    if (!p) abort();
    return p;
}

__attribute__((noinline)) void *my_zalloc(size_t m, size_t n)
{
    void *p = calloc(m, n);
    if (!p) abort();
    return p;
}

__attribute__((noinline)) static int use_x(void)
{
    int s = 0;
    for (int i = 0; i < 5; i++) {
        char *p = xmalloc(48);
        memset(p, i, 48);
        s += consume(p, 48);
        free(p);
    }
    return s;
}

__attribute__((noinline)) static int use_my_a(void)
{
    int s = 0;
    for (int i = 0; i < 3; i++) {
        char *p = my_alloc(16);
        memset(p, i, 16);
        s += consume(p, 16);
        free(p);
    }
    return s;
}

__attribute__((noinline)) static int use_my_b(void)
{
    int s = 0;
    for (int i = 0; i < 2; i++) {
        char *p = my_zalloc(4, 8);
        s += consume(p, 32);
        free(p);
    }
    return s;
}

int main(void)
{
    volatile int sink = use_x() + use_my_a() + use_my_b();
    (void)sink;
    return 0;
}
