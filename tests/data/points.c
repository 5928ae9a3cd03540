/* points.c: the program that tests/data/run_*.json describe (two runs, two inputs). */
#include <stdlib.h>
#include <string.h>

struct point { double x, y, z; };

static char *g_cache[512];

static struct point *make_point(double x, double y)
{
    struct point *p;
    p = malloc(sizeof *p);
    p->x = x; p->y = y; p->z = 0;
    return p;
}

static char *cache_new(size_t n)
{
    char *c;
    c = malloc(n);
    memset(c, 0, n);
    return c;
}

static void cache_put(int slot)
{
    char *c;
    c = cache_new(4096);
    c[0] = (char)slot;
    g_cache[slot % 512] = c;
}

static char *make_buf(size_t n)
{
    char *b = malloc(n);
    memset(b, ' ', n);
    return b;
}

static char *leak_name(int i)
{
    char *s = malloc(16 + (size_t)(i % 7) * 16);
    strcpy(s, "name");
    return s;
}

static char *dup_arg(const char *a)
{
    char *d = malloc(16);
    strncpy(d, a, 15);
    d[15] = 0;
    return d;
}

int main(int argc, char **argv)
{
    int i, n = argc > 1 ? atoi(argv[1]) : 1000;
    double sum = 0;
    for (i = 0; i < n; i++) {
        struct point *p = make_point(i, i);
        sum += p->x;
        free(p);
    }
    for (i = 0; i < n / 4; i++)
        cache_put(i);
    for (i = 0; i < 200; i++) {
        char *b = make_buf(1024);
        free(b);
    }
    for (i = 0; i < 10; i++)
        leak_name(i);
    if (argc > 2)
        free(dup_arg(argv[2]));
    return sum > 0 ? 0 : 1;
}
