/* The time base (guest instructions) across signal handlers and threads.
   Usage: count_time MODE N, MODE one of plain, signal, altstack, thread.
   Each round allocates a block, runs spin() for n iterations of exactly two
   instructions (in main, in a SIGUSR1 handler, in a SIGUSR2 handler on a
   signal alternate stack, or in a second thread that main joins), then
   frees the block.  round_short spins N times, round_long 2N times and
   otherwise runs the same instructions (a warm-up round has resolved every
   PLT entry first), so the two blocks' lifetimes differ by exactly 2N. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "cls_common.h"
#include "cls_signals.h"

static volatile long spin_n;
static char alt_stack[65536];
static const char* mode;

NOINLINE static void spin(long n)
{
   __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
}

NOINLINE static void on_signal(int sig) { spin(spin_n); cls_sink += sig; }

NOINLINE static void* thread_main(void* arg) { spin(spin_n); return arg; }

NOINLINE static void busy(long n)
{
   pthread_t t;
   spin_n = n;
   if (strcmp(mode, "signal") == 0) raise(SIGUSR1);
   else if (strcmp(mode, "altstack") == 0) raise(SIGUSR2);
   else if (strcmp(mode, "thread") == 0) {
      pthread_create(&t, NULL, thread_main, NULL);
      pthread_join(t, NULL);
   } else spin(n);
}

NOINLINE static void round_warm(long n)  { char* p = malloc(16); fill(p, 16); busy(n); free(p); }
NOINLINE static void round_short(long n) { char* p = malloc(16); fill(p, 16); busy(n); free(p); }
NOINLINE static void round_long(long n)  { char* p = malloc(16); fill(p, 16); busy(n); free(p); }

int main(int argc, char** argv)
{
   long n = argc > 2 ? atol(argv[2]) : 100000;
   mode = argc > 1 ? argv[1] : "plain";
   cls_install_handlers(on_signal, on_signal, alt_stack, sizeof alt_stack);
   round_warm(n);
   round_short(n);
   round_long(2 * n);
   return 0;
}
