/* use_stack_allocation: make_point() mallocs a 32-byte struct, fills it,
 * reads it through a noinline helper and frees it before returning; main
 * calls it N times (argv[1], default 500).  Expected: one site, N blocks of
 * class frame, suggestion use_stack_allocation with saved_calls 2N,
 * saved_bytes 32N, stack_cost 32, difficulty easy.
 * argv[2] == "vary": make_point_vary() requests 32 + (i % 4) * 8 bytes
 * instead (the near miss: sizes vary, so no use_stack_allocation). */
#include <stdlib.h>
#include <string.h>

struct point { long x, y, z, w; };

__attribute__((noinline)) static long sum_point(const struct point *p)
{
    return p->x + p->y + p->z + p->w;
}

__attribute__((noinline)) static long make_point(int i)
{
    struct point *p = malloc(sizeof *p); /* MARK:alloc */
    p->x = i; p->y = 2 * i; p->z = 3; p->w = 4;
    long s = sum_point(p);
    free(p);
    return s;
}

__attribute__((noinline)) static long make_point_vary(int i)
{
    struct point *p = malloc(sizeof *p + (i % 4) * 8); /* MARK:alloc_vary */
    p->x = i; p->y = 2 * i; p->z = 3; p->w = 4;
    long s = sum_point(p);
    free(p);
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    int vary = argc > 2 && strcmp(argv[2], "vary") == 0;
    volatile long sink = 0;
    for (int i = 0; i < n; i++)
        sink += vary ? make_point_vary(i) : make_point(i);
    return 0;
}
