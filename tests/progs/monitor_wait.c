/* A program that waits, as a server does, for the vgdb monitor tests: it
 * allocates in three phases and between them prints "ready N" and blocks
 * reading a line from stdin (vgdb then wakes the gdbserver with ptrace).
 *   phase 1: 10 blocks of 16 bytes in phase_one(), freed (frame)
 *   phase 2: 20 blocks of 32 bytes in phase_two(), freed (frame)
 *   phase 3: 5 blocks of 64 bytes in phase_three(), freed (frame) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wait_for(int n)
{
    char line[64];
    printf("ready %d\n", n);
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL) exit(3);
}

__attribute__((noinline)) static void phase(int n, size_t size)
{
    for (int i = 0; i < n; i++) {
        char *p = malloc(size);
        memset(p, i, size);
        free(p);
    }
}

__attribute__((noinline)) static void phase_one(void) { phase(10, 16); }
__attribute__((noinline)) static void phase_two(void) { phase(20, 32); }
__attribute__((noinline)) static void phase_three(void) { phase(5, 64); }

int main(void)
{
    phase_one();
    wait_for(1);
    phase_two();
    wait_for(2);
    phase_three();
    printf("done\n");
    return 0;
}
