/* remove_escape: work() mallocs 40 bytes, uses and frees them before
 * returning -- eligible for the stack but for one debugging store of the
 * pointer into the global g_last_seen.  200 calls.  Expected:
 * remove_escape with 200 of 200 blocks, saved_calls 400, saved_bytes 8,000,
 * stack_cost 40, naming the store's line and g_last_seen.
 * argv[1] == "two": work_two() stores the pointer at two different places
 * (g_last_seen and g_other_seen; the near miss: no remove_escape). */
#include <stdlib.h>
#include <string.h>

void *g_last_seen;
void *g_other_seen;

__attribute__((noinline)) static int digest(const char *p)
{
    return p[0] + p[39];
}

__attribute__((noinline)) static int work(int i)
{
    char *p = malloc(40); /* MARK:alloc */
    memset(p, i & 0x7f, 40);
    g_last_seen = p; /* MARK:store */
    int s = digest(p);
    free(p);
    return s;
}

__attribute__((noinline)) static int work_two(int i)
{
    char *p = malloc(40); /* MARK:alloc_two */
    memset(p, i & 0x7f, 40);
    g_last_seen = p; /* MARK:store_two_a */
    int s = digest(p);
    g_other_seen = p; /* MARK:store_two_b */
    free(p);
    return s;
}

int main(int argc, char **argv)
{
    int two = argc > 1 && strcmp(argv[1], "two") == 0;
    volatile int sink = 0;
    for (int i = 0; i < 200; i++) sink += two ? work_two(i) : work(i);
    return 0;
}
