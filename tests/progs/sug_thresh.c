/* Thresholds and exit codes: `escaping` blocks of 32 bytes stored in the
 * global g_seen (class global) and `local` 32-byte blocks freed in their
 * frame (class frame); the program exits with status `code`.
 * argv: escaping local code (defaults 80 20 7). */
#include <stdlib.h>
#include <string.h>

void *g_seen;

__attribute__((noinline)) static void escape_one(int i)
{
    char *p = malloc(32);
    memset(p, i, 32);
    g_seen = p;
    free(p);
}

__attribute__((noinline)) static int local_one(int i)
{
    char *p = malloc(32);
    memset(p, i, 32);
    int s = p[5];
    free(p);
    return s;
}

int main(int argc, char **argv)
{
    int escaping = argc > 1 ? atoi(argv[1]) : 80;
    int local = argc > 2 ? atoi(argv[2]) : 20;
    int code = argc > 3 ? atoi(argv[3]) : 7;
    volatile int sink = 0;
    for (int i = 0; i < escaping; i++) escape_one(i);
    for (int i = 0; i < local; i++) sink += local_one(i);
    return code;
}
