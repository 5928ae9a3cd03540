/* The bundled demo: a little program with one allocation site of each
   common kind, so the first run of stackheap shows every part of its
   report.  Build: gcc -g -O0 -o demo/demo demo/demo.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct point { double x, y; };

static struct point *g_last;            /* a global that keeps a pointer */

/* Allocates and frees in the same function: could be a local. */
__attribute__((noinline)) static double norm2(double x, double y)
{
    struct point *p = malloc(sizeof *p);
    p->x = x; p->y = y;
    double r = p->x * p->x + p->y * p->y;
    free(p);
    return r;
}

/* Returns a block the caller frees: the caller could own the storage. */
__attribute__((noinline)) static char *format_label(int i)
{
    char *s = malloc(32);
    snprintf(s, 32, "label-%d", i);
    return s;
}

/* Stores the pointer in a global: it escapes. */
__attribute__((noinline)) static void remember(double x)
{
    struct point *p = malloc(sizeof *p);
    p->x = x; p->y = 0;
    g_last = p;
    free(p);
    g_last = NULL;
}

/* Grows a buffer with realloc, one element at a time. */
__attribute__((noinline)) static long grow(int n)
{
    long *v = NULL, sum = 0;
    for (int i = 0; i < n; i++) {
        v = realloc(v, (i + 1) * sizeof *v);
        v[i] = i;
    }
    for (int i = 0; i < n; i++) sum += v[i];
    free(v);
    return sum;
}

int main(void)
{
    double acc = 0;
    size_t len = 0;
    for (int i = 0; i < 2000; i++) acc += norm2(i, i + 1);
    for (int i = 0; i < 500; i++) {
        char *s = format_label(i);
        len += strlen(s);
        free(s);
    }
    for (int i = 0; i < 300; i++) remember(i);
    long sum = grow(64);
    printf("demo: acc=%.0f len=%zu sum=%ld\n", acc, len, sum);
    return 0;
}
