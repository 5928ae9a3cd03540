/* After half of the pair for `sh_annotate --diff` (the "after" file applies the
 * use_stack_allocation suggestion).  Line-for-line the same as
 * sug_stack_after.c, so that sites match by (fn, file, line) when both are
 * compiled from the same path.  make_point() mallocs a 32-byte point per call
 * (400 calls, argv[1]); remember_name() keeps 5 strings of 16 bytes in a
 * global table in both versions (the unchanged site). */
#include <stdlib.h>
#include <string.h>

struct point { long x, y, z, w; };
char *g_names[5];

__attribute__((noinline)) static long sum_point(const struct point *p)
{
    return p->x + p->y + p->z + p->w;
}

__attribute__((noinline)) static long make_point(int i)
{
    struct point pt, *p = &pt; /* MARK:alloc (was malloc) */
    p->x = i; p->y = 2 * i; p->z = 3; p->w = 4;
    long s = sum_point(p);
    /* (was free(p)) */
    return s;
}

__attribute__((noinline)) static void remember_name(int i)
{
    g_names[i] = malloc(16); /* MARK:name */
    memset(g_names[i], 'a' + i, 15);
    g_names[i][15] = 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400;
    volatile long sink = 0;
    for (int i = 0; i < 5; i++) remember_name(i);
    for (int i = 0; i < n; i++) sink += make_point(i);
    for (int i = 0; i < 5; i++) free(g_names[i]);
    return 0;
}
