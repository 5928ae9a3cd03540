/* A program with several kinds of sites, for the determinism test: two runs
 * must give the same JSON (except "pid") and the same text report (after
 * removing the ==PID== prefixes).  Uses buffered printf (a libc site),
 * a linked list whose head is published in a global (the head global,
 * the nodes it holds heap), a global cache (global class), a buffer
 * returned to the caller (caller class), qsort on a heap array, strdup,
 * realloc growth and leaks (never_freed).  Prints a checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; int v; };

static char *g_cache[8];
static struct node *volatile g_head;

__attribute__((noinline)) static char *make_buf(int i)
{
    char *b = malloc(32 + i % 5);
    snprintf(b, 32, "item-%d", i);
    return b;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static long list_work(int n)
{
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *nd = malloc(sizeof *nd);
        nd->v = i;
        nd->next = head;
        head = nd;
    }
    g_head = head;
    long s = 0;
    while (head) {
        struct node *nx = head->next;
        s += head->v;
        free(head);
        head = nx;
    }
    g_head = NULL;
    return s;
}

__attribute__((noinline)) static long sort_work(int n)
{
    int *a = malloc(n * sizeof *a);
    for (int i = 0; i < n; i++) a[i] = (i * 7919) % n;
    qsort(a, n, sizeof *a, cmp_int);
    long s = a[0] + a[n - 1];
    free(a);
    return s;
}

__attribute__((noinline)) static long grow_work(void)
{
    size_t cap = 4, len = 0;
    int *v = malloc(cap * sizeof *v);
    for (int i = 0; i < 1000; i++) {
        if (len == cap) { cap *= 2; v = realloc(v, cap * sizeof *v); }
        v[len++] = i;
    }
    long s = v[len - 1];
    free(v);
    return s;
}

int main(void)
{
    long sum = 0;
    for (int i = 0; i < 200; i++) {
        char *b = make_buf(i);
        sum += strlen(b);
        if (i % 25 == 0) g_cache[i / 25] = strdup(b);
        free(b);
    }
    sum += list_work(300);
    sum += sort_work(500);
    sum += grow_work();
    for (int i = 0; i < 5; i++) {
        char *leak = malloc(100 + i);
        leak[0] = (char)i;
        sum += leak[0];
    }
    printf("checksum %ld\n", sum);
    for (int i = 0; i < 8; i++) printf("%s\n", g_cache[i]);
    return 0;
}
