/* The heap's bounds grow inside a signal handler: the handler allocates
   a large block (fresh memory, outside every block so far) and puts its
   address in main's frame; after the handler returns, main passes it to
   publish(), which stores it into a global.  That store must be checked
   against the grown bounds, although the handler's return restored the
   shadow state saved at its delivery (tests/test_store_filter.py). */
#include <signal.h>
#include <string.h>
#include "cls_common.h"

#define BIG (4 << 20)

static char** volatile slot;   /* main's local, for the handler */
char* g_after;

NOINLINE static void on_usr1(int sig)
{
   char* p = malloc(BIG); /* ALLOC-IN-HANDLER */
   fill(p, 64);
   *slot = p;
   cls_sink += sig;
}

NOINLINE static void publish(char* p)
{
   g_after = p; /* ESCAPE-AFTER-HANDLER */
}

int main(void)
{
   struct sigaction sa;
   char* got = NULL;
   char* small = malloc(16); /* ALLOC-SMALL */
   fill(small, 16);
   memset(&sa, 0, sizeof sa);
   sa.sa_handler = on_usr1;
   sigemptyset(&sa.sa_mask);
   sigaction(SIGUSR1, &sa, NULL);
   slot = &got;
   raise(SIGUSR1);
   publish(got);
   use(got);
   free(got);
   use(small);
   free(small);
   return 0;
}
