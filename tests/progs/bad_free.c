/* Bad frees: free(p + 8) and realloc(p + 8, 64) (not the start of a block)
 * and a double free.
 * Under the tool all three are warned about and ignored; the program goes on and
 * exits with status 7 after printing "finished".  (Run natively, glibc would
 * abort: this program is only for the tool.)
 * Expected: site stack[0] = victim: 1 block, 32 bytes, class frame (the real
 * free happens in victim); totals.blocks 1, bytes 32, bad_frees 3; the log has two
 * "not the start of a live heap block" warnings (free, realloc) and one
 * "double free" warning.  stderr gets "finished" (unbuffered: no block). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static void wild_free(char *p)
{
    free(p);
}

__attribute__((noinline)) static int victim(void)
{
    char *p = malloc(32);
    memset(p, 1, 32);
    int s = consume(p, 32);
    wild_free(p + 8);   /* not the start of a block */
    char *r = realloc(p + 8, 64);   /* realloc of a wild pointer: NULL, nothing freed */
    if (r != NULL) s += 1000;
    free(p);            /* the real free */
    wild_free(p);       /* double free */
    return s;
}

int main(void)
{
    volatile int sink = victim();
    (void)sink;
    /* stderr is unbuffered: no stdio buffer block */
    static const char msg[] = "finished\n";
    fwrite(msg, 1, sizeof msg - 1, stderr);
    return 7;
}
