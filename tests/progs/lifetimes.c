/* Never-freed blocks, max_live, min/max sizes, lifetimes, peak live bytes.
 * No stdio (printf would allocate the stdout buffer).
 *   leak():   7 blocks of 10 bytes, stored in a global array, never freed
 *             -> site leak: blocks 7, bytes 70, class global 7 (a pointer was
 *                stored in a global: global comes first in the class order)
 *   leak_local(): 3 blocks of 8 bytes whose pointers never leave the stack,
 *             never freed -> class never_freed 3, bytes 24
 *   hold():   called 3 times; each call allocates 5 blocks of 100 bytes into a
 *             local array, then frees them all -> blocks 15, bytes 1500,
 *             max_live 5, all class frame
 *   sizes():  one block each of 8, 16, 32, 64, 128 bytes, freed one by one
 *             -> blocks 5, bytes 248, min_size 8, max_size 128
 * peak_live_bytes = 70 + 24 + 500 = 594 (the leaks stay live during hold()).
 * Totals: 30 blocks, 70 + 24 + 1500 + 248 = 1842 bytes;
 *   classes: global 7, never_freed 3, frame 20. */
#include <stdlib.h>
#include <string.h>

void *g_leaks[7];

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static void leak(void)
{
    for (int i = 0; i < 7; i++) {
        g_leaks[i] = malloc(10);
        memset(g_leaks[i], i, 10);
    }
}

__attribute__((noinline)) static int leak_local(void)
{
    int s = 0;
    for (int i = 0; i < 3; i++) {
        char *p = malloc(8);
        memset(p, i, 8);
        s += consume(p, 8);
    }
    return s;
}

__attribute__((noinline)) static int hold(void)
{
    char *b[5];
    int s = 0;
    for (int i = 0; i < 5; i++) {
        b[i] = malloc(100);
        memset(b[i], i, 100);
    }
    for (int i = 0; i < 5; i++) {
        s += consume(b[i], 100);
        free(b[i]);
    }
    return s;
}

__attribute__((noinline)) static int sizes(void)
{
    int s = 0;
    for (size_t n = 8; n <= 128; n *= 2) {
        char *p = malloc(n);
        memset(p, 1, n);
        s += consume(p, n);
        free(p);
    }
    return s;
}

int main(void)
{
    volatile int sink = 0;
    leak();
    sink += leak_local();
    for (int i = 0; i < 3; i++) sink += hold();
    sink += sizes();
    return 0;
}
