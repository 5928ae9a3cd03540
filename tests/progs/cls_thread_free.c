/* Blocks freed by another thread: thread.  The pointers travel through a
   struct on the creator's stack (not a global, not the pthread_create
   argument).  `kept` is also stored on the freeing thread's stack (the
   first escape); `bare` is only ever in registers there (built with
   -Wl,-z,now so no lazy-binding resolver spills it): thread because the
   other thread freed it. */
#include <pthread.h>
#include "cls_common.h"

struct msg { char* kept; char* bare; };

NOINLINE static void* freer(void* arg)
{
   char* volatile mine = ((struct msg*)arg)->kept; /* ESCAPE-HERE */
   use(mine);
   free(mine);
   free(((struct msg*)arg)->bare);
   return NULL;
}

NOINLINE static void sender(void)
{
   struct msg m;
   pthread_t t;
   m.kept = malloc(16); /* ALLOC-KEPT */
   m.bare = malloc(24); /* ALLOC-BARE */
   fill(m.kept, 16);
   fill(m.bare, 24);
   pthread_create(&t, NULL, freer, &m);
   pthread_join(t, NULL);
}

int main(void)
{
   sender();
   return 0;
}
