/* Signal set-up shared by the fixtures whose blocks live in handlers
   (cls_signal.c, count_time.c): on_usr1 runs on the thread's stack for
   SIGUSR1, on_usr2 on the alternate stack alt[0..size) for SIGUSR2. */
#ifndef CLS_SIGNALS_H
#define CLS_SIGNALS_H
#include <signal.h>
#include <string.h>

static void cls_install_handlers(void (*on_usr1)(int), void (*on_usr2)(int),
                                 void* alt, size_t size)
{
   struct sigaction sa;
   stack_t ss;
   memset(&sa, 0, sizeof sa);
   sigemptyset(&sa.sa_mask);
   sa.sa_handler = on_usr1;
   sigaction(SIGUSR1, &sa, NULL);
   ss.ss_sp = alt;
   ss.ss_size = size;
   ss.ss_flags = 0;
   sigaltstack(&ss, NULL);
   sa.sa_handler = on_usr2;
   sa.sa_flags = SA_ONSTACK;
   sigaction(SIGUSR2, &sa, NULL);
}
#endif
