/* Recursion and --stack-budget: descend(d) mallocs a 64-byte block, recurses
 * to depth 2000 and frees the block on the way back, so 2000 activations of
 * descend() are alive at once.  main walks the recursion `reps` times
 * (argv[1], default 3): 6000 blocks of class frame, max_live 2000.
 * A local would cost 64 x 2000 = 128,000 stack bytes: over the default
 * budget (65,536) -> object_pool; with --stack-budget=1m ->
 * use_stack_allocation with stack_cost 128,000. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static long descend(int d)
{
    char *p = malloc(64); /* MARK:alloc */
    memset(p, d & 0x7f, 64);
    long s = p[d % 64];
    if (d > 1) s += descend(d - 1);
    free(p);
    return s;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    volatile long sink = 0;
    for (int r = 0; r < reps; r++) sink += descend(2000);
    return 0;
}
