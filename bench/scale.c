/* Scale workloads for bench/run (compiled there with gcc -O2 -pthread).

     scale live L M       M allocations of 32 bytes through a ring of L
                          slots (a malloc'd array): L blocks stay live, each
                          new one replaces (frees) the oldest; then all freed.
     scale recurse D R    R times: a recursion D frames deep with one
                          32-byte block per frame (allocated on the way
                          down, freed on the way up, stored in a local).
     scale threads T M    T threads (T = 1: the main thread alone) share M
                          allocate/use/free iterations equally; each
                          iteration stores the pointer into its own frame
                          and passes it to a callee.

   Prints one checksum line, the same natively and under any tool. */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long sum_block(const unsigned long* p)
{
   return p[0] + p[3];
}

static unsigned long live(long L, long M)
{
   unsigned long** ring = calloc(L, sizeof *ring);
   unsigned long s = 0;
   long i;
   for (i = 0; i < M; i++) {
      long k = i % L;
      unsigned long* b;
      if (ring[k] != NULL) { s += sum_block(ring[k]); free(ring[k]); }
      b = malloc(32);
      b[0] = i; b[3] = i >> 3;
      ring[k] = b;
   }
   for (i = 0; i < L; i++)
      if (ring[i] != NULL) { s += sum_block(ring[i]); free(ring[i]); }
   free(ring);
   return s;
}

static __attribute__((noinline)) unsigned long down(long d)
{
   unsigned long* volatile b = malloc(32);
   unsigned long r;
   b[0] = d; b[3] = 1;
   r = d > 1 ? down(d - 1) : 0;
   r += sum_block(b);
   free(b);
   return r;
}

typedef struct { long n; unsigned long sum; } Work;

static __attribute__((noinline)) unsigned long use(unsigned long* p)
{
   unsigned long* volatile keep[2];
   keep[0] = p;
   keep[1] = p + 1;
   return sum_block(keep[0]) + (keep[1] != NULL);
}

static void* worker(void* arg)
{
   Work* w = arg;
   unsigned long* volatile mine;
   long i;
   for (i = 0; i < w->n; i++) {
      mine = malloc(32);
      mine[0] = i; mine[3] = 2;
      w->sum += use(mine);
      free(mine);
   }
   return NULL;
}

static unsigned long threads(long T, long M)
{
   Work* w = calloc(T, sizeof *w);
   pthread_t* t = calloc(T, sizeof *t);
   unsigned long s = 0;
   long i;
   for (i = 0; i < T; i++) w[i].n = M / T;
   if (T == 1) {
      worker(&w[0]);
   } else {
      pthread_attr_t a;
      pthread_attr_init(&a);
      pthread_attr_setstacksize(&a, 256 * 1024);
      for (i = 0; i < T; i++)
         if (pthread_create(&t[i], &a, worker, &w[i]) != 0) { perror("pthread_create"); exit(2); }
      for (i = 0; i < T; i++) pthread_join(t[i], NULL);
   }
   for (i = 0; i < T; i++) s += w[i].sum;
   free(w);
   free(t);
   return s;
}

int main(int argc, char** argv)
{
   unsigned long s = 0;
   long a, b, r;
   if (argc != 4) { fprintf(stderr, "usage: scale live|recurse|threads N M\n"); return 2; }
   a = atol(argv[2]);
   b = atol(argv[3]);
   if (strcmp(argv[1], "live") == 0) s = live(a, b);
   else if (strcmp(argv[1], "recurse") == 0) { for (r = 0; r < b; r++) s += down(a); }
   else if (strcmp(argv[1], "threads") == 0) s = threads(a, b);
   else { fprintf(stderr, "scale: unknown mode %s\n", argv[1]); return 2; }
   printf("%lu\n", s);
   return 0;
}
