/* Blocks allocated and freed inside signal handlers: frame, home = the
   handler.  SIGUSR1 runs on the thread's stack, SIGUSR2 on a signal
   alternate stack. */
#include <signal.h>
#include <string.h>
#include "cls_common.h"
#include "cls_signals.h"

static char alt_stack[65536];

NOINLINE static void on_usr1(int sig)
{
   char* p = malloc(32); /* ALLOC-HERE */
   fill(p, 32);
   use(p);
   free(p);
   cls_sink += sig;
}

NOINLINE static void on_usr2(int sig)
{
   char* p = malloc(40); /* ALLOC-ALT */
   fill(p, 40);
   use(p);
   free(p);
   cls_sink += sig;
}

NOINLINE static void fire(int sig)
{
   raise(sig);
   cls_sink++;
}

int main(void)
{
   int i;
   cls_install_handlers(on_usr1, on_usr2, alt_stack, sizeof alt_stack);
   for (i = 0; i < cls_two; i++) fire(SIGUSR1);
   for (i = 0; i < cls_three; i++) fire(SIGUSR2);
   return 0;
}
