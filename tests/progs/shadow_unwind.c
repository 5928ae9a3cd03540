/* Allocation and free stacks where the shadow stack and the CFI unwinder
   could disagree (tests/test_shadow_unwind.py; sh_sites.c reads stacks
   from the shadow stack once earlier unwinds gave each frame's gap).
   shadow_unwind MODE N: N rounds of MODE, each allocating one block (two
   threads: 2N) and freeing it through release().

     jump     setjmp, a 20-deep recursion that longjmps out, then a VLA
              (constant size) puts the SP below the left frames' slots,
              which still hold their return addresses: those frames stay
              on the shadow stack, and the allocation is made below them
     jumpvla  the same with a VLA whose size changes every round
     alloca   an alloca of a size that changes every round on the path
     signal   a handler allocates, raised from a 15-deep recursion
     altstack the same handler on a sigaltstack
     tail     reached through a sibling call (-O2: jmp) made after a call
              that returned (its frame is left on the shadow stack, its
              slot inside the next frame); freed through a tail call too
     wrap     through two --alloc-fn wrappers, 20 frames deep
     deep     a 30-deep recursion allocating every 3rd level
     thread   two threads allocate (stacks end at start_thread)
     shallow  main's callee allocates (the stack ends in start-up code) */
#include <alloca.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noipa))
static volatile long sink;

/* Frees p; with -O2 a tail call (jmp free). */
NOINLINE void release(void* p)
{
   sink++;
   free(p);
}

NOINLINE void* leaf_alloc(size_t n)
{
   void* p = malloc(n);
   sink += (long)p & 1;   /* (no tail call into malloc) */
   return p;
}

/* jump, jumpvla */
static jmp_buf jb;

NOINLINE void dive(int d)
{
   if (d == 0) longjmp(jb, 1);
   dive(d - 1);
   sink++;
}

NOINLINE void after_jump(int i, int vla_size)
{
   if (setjmp(jb) == 0) dive(20);
   {
      char buf[vla_size];   /* (left as it is: the slots keep their values) */
      buf[0] = (char)i;
      sink += buf[0];
      release(leaf_alloc(24));
   }
}

/* alloca */
NOINLINE void alloca_path(int i)
{
   char* buf = alloca(64 + (i % 7) * 48);
   buf[0] = (char)i;
   sink += buf[0];
   release(leaf_alloc(8));
}

/* signal, altstack */
NOINLINE void handler(int sig)
{
   release(leaf_alloc(40 + sig - sig));
}

NOINLINE void deep_raise(int d)
{
   if (d == 0) {
      raise(SIGUSR1);
      return;
   }
   deep_raise(d - 1);
   sink++;
}

/* tail */
NOINLINE size_t helper(size_t n)
{
   sink++;
   return n + 1;
}

NOINLINE void* make_obj(size_t n)
{
   volatile char big[256];
   void* p;
   big[n % 256] = 1;
   p = malloc(n);
   sink += big[n % 256] + ((long)p & 1);
   return p;
}

NOINLINE void* via_tail(size_t n)
{
   size_t m = helper(n);
   return make_obj(m);   /* -O2: jmp */
}

NOINLINE void tail_caller(int i)
{
   void* p = via_tail(16);
   sink += i;
   release(p);
}

/* wrap */
NOINLINE void* wrap_alloc(size_t n)
{
   void* p = malloc(n);
   if (p == NULL) abort();
   return p;
}

NOINLINE void* wrap_outer(size_t n)
{
   void* p = wrap_alloc(n);
   sink++;
   return p;
}

NOINLINE void wrap_down(int d)
{
   if (d > 0) {
      wrap_down(d - 1);
      sink++;
      return;
   }
   release(wrap_outer(56));
}

/* deep */
NOINLINE void rec(int d)
{
   if (d % 3 == 0) release(leaf_alloc(72));
   if (d > 0) rec(d - 1);
   sink++;
}

/* thread */
static int rounds;

NOINLINE void* worker(void* arg)
{
   int i;
   for (i = 0; i < rounds; i++) release(leaf_alloc(88));
   return arg;
}

int main(int argc, char** argv)
{
   const char* mode;
   int i, n;
   if (argc != 3) return 2;
   mode = argv[1];
   n = atoi(argv[2]);
   rounds = n;
   if (strcmp(mode, "signal") == 0 || strcmp(mode, "altstack") == 0) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = handler;
      if (strcmp(mode, "altstack") == 0) {
         stack_t ss;
         ss.ss_sp = malloc(1 << 16);
         ss.ss_size = 1 << 16;
         ss.ss_flags = 0;
         if (sigaltstack(&ss, NULL) != 0) return 3;
         sa.sa_flags = SA_ONSTACK;
      }
      sigaction(SIGUSR1, &sa, NULL);
   }
   if (strcmp(mode, "thread") == 0) {
      pthread_t t[2];
      for (i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
      for (i = 0; i < 2; i++) pthread_join(t[i], NULL);
      return 0;
   }
   for (i = 0; i < n; i++) {
      if (strcmp(mode, "jump") == 0) after_jump(i, 512);
      else if (strcmp(mode, "jumpvla") == 0) after_jump(i, 256 + (i % 5) * 80);
      else if (strcmp(mode, "alloca") == 0) alloca_path(i);
      else if (strcmp(mode, "signal") == 0 || strcmp(mode, "altstack") == 0) deep_raise(15);
      else if (strcmp(mode, "tail") == 0) tail_caller(i);
      else if (strcmp(mode, "wrap") == 0) wrap_down(20);
      else if (strcmp(mode, "deep") == 0) rec(30);
      else if (strcmp(mode, "shallow") == 0) release(leaf_alloc(104));
      else return 2;
   }
   return 0;
}
