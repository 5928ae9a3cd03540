/* A block allocated and freed in a thread's start routine: frame, home =
   the start routine.  Also a TLS store from a non-main thread: global (its
   TLS block lies above its stack). */
#include <pthread.h>
#include "cls_common.h"

__thread char* t_slot;

NOINLINE static void* start_local(void* arg)
{
   char* p = malloc(32); /* ALLOC-START */
   (void)arg;
   fill(p, 32);
   use(p);
   free(p);
   return NULL;
}

NOINLINE static void* start_tls(void* arg)
{
   char* p = malloc(33); /* ALLOC-TLS */
   (void)arg;
   fill(p, 33);
   t_slot = p; /* ESCAPE-TLS */
   use(t_slot);
   free(p);
   return NULL;
}

int main(void)
{
   pthread_t t1, t2;
   pthread_create(&t1, NULL, start_local, NULL);
   pthread_join(t1, NULL);
   pthread_create(&t2, NULL, start_tls, NULL);
   pthread_join(t2, NULL);
   return 0;
}
