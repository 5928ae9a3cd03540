/* Thread churn: hundreds of short threads, joined and detached, with
   custom stack sizes (tids are reused), threads that exit while others
   keep storing heap pointers into globals, TLS-like mmap'd memory and
   each other's blocks.  Prints a checksum computed the same natively. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define N_ROUNDS 40
#define PER_ROUND 8

static void* volatile shared[64];
static void** volatile anon;            /* mmap'd: no symbol describes it */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long sum;
static volatile int detached_done;

static void* worker(void* arg)
{
   long k = (long)arg;
   char* own = malloc(32 + k % 50);       /* freed by this thread */
   char* out = malloc(16);                /* handed to others */
   snprintf(own, 32, "w%ld", k);
   pthread_mutex_lock(&mu);
   sum += (long)strlen(own);
   free(shared[k % 64]);
   shared[k % 64] = out;                   /* global store */
   anon[k % 512] = out;                    /* store into mmap'd memory */
   pthread_mutex_unlock(&mu);
   free(own);
   return (void*)(k * 3);
}

static void* detached(void* arg)
{
   void* p = malloc(24);
   pthread_mutex_lock(&mu);
   anon[511] = p;
   detached_done++;
   pthread_mutex_unlock(&mu);
   return NULL;
}

static void* idle(void* arg) { return arg; }

/* Threads on stacks the program provides; after they exit, a heap
   pointer is stored near the top of one of those stacks (where the exited
   thread's descriptor was): the tool must describe that address without
   asking the core about the exited thread. */
static void user_stacks(void)
{
   enum { SZ = 256 * 1024 };
   char* mem[2];
   pthread_t t[2];
   int i;
   char* p;
   for (i = 0; i < 2; i++) {
      pthread_attr_t at;
      mem[i] = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      pthread_attr_init(&at);
      pthread_attr_setstack(&at, mem[i], SZ);
      pthread_create(&t[i], &at, idle, NULL);
      pthread_attr_destroy(&at);
   }
   for (i = 0; i < 2; i++) pthread_join(t[i], NULL);
   pthread_create(&t[0], NULL, idle, NULL);     /* reuses one tid */
   pthread_join(t[0], NULL);
   p = malloc(40);
   for (i = 0; i < 2; i++) {
      *(void* volatile*)(mem[i] + SZ - 64) = p;
      *(void* volatile*)(mem[i] + SZ / 2) = p;
   }
   free(p);
   for (i = 0; i < 2; i++) munmap(mem[i], SZ);
}

int main(void)
{
   static const size_t stacks[] = { 0, 64 * 1024, 256 * 1024, 16 * 1024 };
   long r, k = 0;
   int i, d = 0;
   anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
   for (r = 0; r < N_ROUNDS; r++) {
      pthread_t t[PER_ROUND];
      for (i = 0; i < PER_ROUND; i++, k++) {
         pthread_attr_t at;
         pthread_attr_init(&at);
         if (stacks[k % 4]) pthread_attr_setstacksize(&at, stacks[k % 4]);
         pthread_create(&t[i], &at, worker, (void*)k);
         pthread_attr_destroy(&at);
      }
      for (i = 0; i < PER_ROUND; i++) {
         void* ret;
         pthread_join(t[i], &ret);
         pthread_mutex_lock(&mu);   /* (workers of this round may still run) */
         sum += (long)ret;
         pthread_mutex_unlock(&mu);
      }
      if (r % 4 == 0) {            /* a detached one, never joined */
         pthread_t dt;
         pthread_attr_t at;
         pthread_attr_init(&at);
         pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
         pthread_attr_setstacksize(&at, 64 * 1024);
         pthread_create(&dt, &at, detached, NULL);
         pthread_attr_destroy(&at);
         d++;
      }
      /* After threads exited: main stores heap pointers where they need
         describing (mmap'd memory, a global), with exited tids around. */
      {
         char* p = malloc(8);
         anon[r] = p;
         shared[(r * 7) % 64] = shared[(r * 7) % 64];
         free(p);
      }
   }
   while (1) {                      /* let the detached threads finish */
      pthread_mutex_lock(&mu);
      i = detached_done;
      pthread_mutex_unlock(&mu);
      if (i == d) break;
      usleep(1000);
   }
   user_stacks();
   for (i = 0; i < 64; i++) free(shared[i]);
   printf("threads=%ld detached=%d sum=%ld\n", k, d, sum);
   return 3;
}
