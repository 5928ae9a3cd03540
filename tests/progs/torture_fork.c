/* fork in a threaded program: the child keeps only the forking thread.
   The child allocates, stores heap pointers where they need describing
   (above where the lost threads' stacks were, mmap'd memory), starts
   threads of its own (tids of lost threads are reused) and exits with a
   status of its own; the parent reports it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SZ = 256 * 1024 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static char* stack_mem[3];
static void* volatile keep[8];

static void* waiter(void* arg)
{
   void* p = malloc(64);
   keep[(long)arg] = p;
   pthread_mutex_lock(&mu);
   while (!go) pthread_cond_wait(&cv, &mu);
   pthread_mutex_unlock(&mu);
   return NULL;
}

static void* child_worker(void* arg)
{
   char* p = malloc(16);
   keep[4 + (long)arg] = p;
   return p;
}

static int child(void)
{
   pthread_t t[2];
   long i;
   char* p = malloc(32);
   /* where the lost threads' descriptors were */
   for (i = 0; i < 3; i++) *(void* volatile*)(stack_mem[i] + SZ - 64) = p;
   for (i = 0; i < 2; i++) pthread_create(&t[i], NULL, child_worker, (void*)i);
   for (i = 0; i < 2; i++) {
      void* r;
      pthread_join(t[i], &r);
      free(r);
   }
   free(p);
   printf("child done\n");
   fflush(stdout);
   return 42;
}

int main(void)
{
   pthread_t t[3];
   long i;
   int st;
   pid_t pid;
   for (i = 0; i < 3; i++) {
      pthread_attr_t at;
      stack_mem[i] = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      pthread_attr_init(&at);
      pthread_attr_setstack(&at, stack_mem[i], SZ);
      pthread_create(&t[i], &at, waiter, (void*)i);
      pthread_attr_destroy(&at);
   }
   while (!keep[0] || !keep[1] || !keep[2]) usleep(1000);
   fflush(stdout);
   pid = fork();
   if (pid == 0) _exit(child());
   waitpid(pid, &st, 0);
   pthread_mutex_lock(&mu);
   go = 1;
   pthread_cond_broadcast(&cv);
   pthread_mutex_unlock(&mu);
   for (i = 0; i < 3; i++) pthread_join(t[i], NULL);
   for (i = 0; i < 3; i++) free(keep[i]);
   printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
   return 5;
}
