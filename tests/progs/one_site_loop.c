/* One call site run a known number of times.
 * make_and_drop() does malloc(24), writes it, reads it back through a
 * noinline function, frees it; main calls it N times (argv[1], default 1000).
 * Expected: exactly one site with stack[0] = make_and_drop, N blocks,
 * 24*N bytes, min_size = max_size = 24, max_live 1, all blocks class "frame";
 * peak_live_bytes 24; totals.blocks N, totals.bytes 24*N. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static int make_and_drop(int i)
{
    char *p = malloc(24);
    memset(p, i & 0x7f, 24);
    int s = consume(p, 24);
    free(p);
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    volatile int sink = 0;
    for (int i = 0; i < n; i++) sink += make_and_drop(i);
    return 0;
}
