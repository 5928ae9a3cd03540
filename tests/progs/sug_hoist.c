/* hoist_out_of_loop: process_all() allocates a 64-byte scratch block, uses
 * and frees it, 100 times in one call.  Expected: 100 blocks, 99 of them a
 * reuse -> hoist_out_of_loop with saved_calls 198, saved_bytes 6,336.
 * argv[1] == "percall": process_one() is called 100 times and allocates
 * once per call (the near miss: no hoist_out_of_loop). */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int use_scratch(char *p)
{
    memset(p, 7, 64);
    return p[10] + p[63];
}

__attribute__((noinline)) static int process_all(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        char *scratch = malloc(64); /* MARK:alloc_loop */
        s += use_scratch(scratch);
        free(scratch);
    }
    return s;
}

__attribute__((noinline)) static int process_one(void)
{
    char *scratch = malloc(64); /* MARK:alloc_once */
    int s = use_scratch(scratch);
    free(scratch);
    return s;
}

int main(int argc, char **argv)
{
    volatile int sink = 0;
    if (argc > 1 && strcmp(argv[1], "percall") == 0) {
        for (int i = 0; i < 100; i++) sink += process_one();
    } else {
        sink += process_all(100);
    }
    return 0;
}
