/* Allocation edge cases.  Prints one line per check (stdout, unbuffered
 * stdio would allocate nothing, but we use write() to be sure).
 *   do_malloc0():      malloc(0) -> a real block of 0 bytes, freed
 *   do_calloc0():      calloc(0, 5) -> a real block of 0 bytes, freed
 *   do_bad_align():    posix_memalign(&p, 3, 10) -> EINVAL ("pm einval"),
 *                      p unchanged, no block
 *   do_usable_shrunk(): malloc(100), realloc to 10 in place, then
 *                      malloc_usable_size -> 10 ("usable 10"), reallocs 1
 *   do_many_reallocs(): one block grown 1 byte at a time from 1 to 200 bytes
 *                      (199 reallocs): blocks 1, bytes 200, max_size 200
 * Expected totals: 4 blocks, 0 + 0 + 100 + 200 = 300 bytes, all class frame. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out(const char *s) { if (write(1, s, strlen(s)) < 0) exit(2); }

__attribute__((noinline)) static int consume(const volatile char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static void do_malloc0(void)
{
    char *p = malloc(0);
    out(p ? "malloc0 non-null\n" : "malloc0 null\n");
    consume(p, 0);
    free(p);
}

__attribute__((noinline)) static void do_calloc0(void)
{
    char *p = calloc(0, 5);
    out(p ? "calloc0 non-null\n" : "calloc0 null\n");
    consume(p, 0);
    free(p);
}

__attribute__((noinline)) static void do_bad_align(void)
{
    void *p = &p;
    int rc = posix_memalign(&p, 3, 10);
    out(rc == EINVAL ? "pm einval\n" : "pm other\n");
    out(p == &p ? "pm unchanged\n" : "pm changed\n");
    if (rc == 0) free(p);
}

__attribute__((noinline)) static void do_usable_shrunk(void)
{
    char buf[32];
    char *p = malloc(100);
    memset(p, 1, 100);
    p = realloc(p, 10);
    snprintf(buf, sizeof buf, "usable %zu\n", malloc_usable_size(p));
    out(buf);
    consume(p, 10);
    free(p);
}

__attribute__((noinline)) static void do_many_reallocs(void)
{
    char *p = malloc(1);
    p[0] = 1;
    for (size_t n = 2; n <= 200; n++) {
        p = realloc(p, n);
        p[n - 1] = (char)n;
    }
    consume(p, 200);
    free(p);
}

int main(void)
{
    do_malloc0();
    do_calloc0();
    do_bad_align();
    do_usable_shrunk();
    do_many_reallocs();
    return 0;
}
