/* An allocation inside a function inlined into its caller (-O2).
   With inline info (the default) the site's stack is
   make_buf (inlined.c:MK) <- outer (inlined.c:CALL) <- main; with
   --read-inline-info=no it starts at outer.  20 blocks of 24 bytes,
   all frame in outer (the inlined function has no frame of its own). */
#include <stdlib.h>
#include <string.h>

__attribute__((noipa)) static void sink(char *p) { if (p[0] == 42) abort(); }

static inline __attribute__((always_inline)) char *make_buf(int n)
{
    char *p = malloc(n); /* MK */
    memset(p, 1, n);
    return p;
}

__attribute__((noipa)) static void outer(void)
{
    char *p = make_buf(24); /* CALL */
    sink(p);
    free(p);
}

int main(void)
{
    for (volatile int i = 0; i < 20; i++) outer();
    return 0;
}
