/* The heap's bounds grow while another thread waits: once the worker
   has allocated (its last chance to see the bounds before it waits) and
   said so, main allocates a large block (fresh memory, above every block
   so far) and sends its address to the worker through a pipe (the kernel
   copies it: no store of the program's); the worker stores it into a
   global.  The store must be checked against the grown bounds, in the
   thread that did not allocate (tests/test_store_filter.py). */
#include <pthread.h>
#include <unistd.h>
#include "cls_common.h"

#define BIG (4 << 20)

static int to_worker[2], to_main[2];
char* g_from_worker;

NOINLINE static void publish(char* p)
{
   g_from_worker = p; /* ESCAPE-IN-WORKER */
}

static void* worker(void* arg)
{
   char* p;
   char done = 'k';
   char* own = malloc(32); /* ALLOC-WORKER */
   fill(own, 32);
   if (write(to_main[1], &done, 1) != 1) abort();
   if (read(to_worker[0], &p, sizeof p) != sizeof p) abort();
   publish(p);
   if (write(to_main[1], &done, 1) != 1) abort();
   use(own);
   free(own);
   return arg;
}

int main(void)
{
   pthread_t t;
   char* p;
   char c;
   if (pipe(to_worker) != 0 || pipe(to_main) != 0) return 1;
   pthread_create(&t, NULL, worker, NULL);
   if (read(to_main[0], &c, 1) != 1) return 1;   /* the worker has allocated */
   p = malloc(BIG); /* ALLOC-BIG */
   fill(p, 64);
   if (write(to_worker[1], &p, sizeof p) != sizeof p) return 1;
   if (read(to_main[0], &c, 1) != 1) return 1;
   use(p);
   free(p);
   pthread_join(t, NULL);
   return 0;
}
