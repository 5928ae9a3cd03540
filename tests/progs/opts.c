/* For option tests.  Prints "program ran" first thing, then:
 *   many_small(): 100 blocks of 8 bytes   (800 bytes)    -- most blocks
 *   few_big():    2 blocks of 1000 bytes  (2000 bytes)   -- most bytes
 *   middle():     10 blocks of 50 bytes   (500 bytes)
 * all freed in the allocating function.  Exits with status argv[1] (default 0).
 * --sort-by=blocks (default): many_small, middle, few_big;
 * --sort-by=bytes: few_big, many_small, middle.
 * printf allocates the stdout buffer (a libc site) unless stdout is
 * unbuffered, so the program makes it unbuffered: exactly 3 sites,
 * 112 blocks, 3300 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static int alloc_n(int count, size_t size)
{
    int s = 0;
    for (int i = 0; i < count; i++) {
        char *p = malloc(size);
        memset(p, i, size);
        s += consume(p, size);
        free(p);
    }
    return s;
}

/* Each wrapper calls alloc_n: distinct sites, since stack[1] differs. */
__attribute__((noinline)) static int many_small(void) { return alloc_n(100, 8); }
__attribute__((noinline)) static int few_big(void) { return alloc_n(2, 1000); }
__attribute__((noinline)) static int middle(void) { return alloc_n(10, 50); }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("program ran\n");
    volatile int sink = many_small() + few_big() + middle();
    (void)sink;
    return argc > 1 ? atoi(argv[1]) : 0;
}
