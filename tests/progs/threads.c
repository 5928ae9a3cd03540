/* Four threads, each doing a known number of allocations from one site.
 * Thread t (0..3) runs worker(t): 100*(t+1) blocks of 8*(t+1) bytes, each
 * freed in work_once() before it returns.
 * Expected, site stack[0] = work_once (one site: the stacks are the same):
 *   blocks 100+200+300+400 = 1000
 *   bytes  8*(100*1 + 200*2 + 300*3 + 400*4) = 8*3000 = 24000
 *   min_size 8, max_size 32, all class frame.
 * The main thread allocates nothing itself; glibc's pthread_create may (TLS),
 * so only the work_once site is exact; totals equal the sum over sites. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int consume(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

__attribute__((noinline)) static int work_once(size_t n)
{
    char *p = malloc(n);
    memset(p, (int)n, n);
    int s = consume(p, n);
    free(p);
    return s;
}

static void *worker(void *arg)
{
    long t = (long)arg;
    long s = 0;
    for (int i = 0; i < 100 * (t + 1); i++) s += work_once(8 * (t + 1));
    return (void *)s;
}

int main(void)
{
    pthread_t th[4];
    for (long t = 0; t < 4; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)t) != 0) return 1;
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
    return 0;
}
