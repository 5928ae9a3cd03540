/* A pointer handed to another thread as the pthread_create argument:
   thread, even though the creator frees it after the join. */
#include <pthread.h>
#include "cls_common.h"

NOINLINE static void* reader(void* arg)
{
   use(arg);
   return NULL;
}

NOINLINE static void handoff(void)
{
   pthread_t t;
   char* p = malloc(16); /* ALLOC-HERE */
   fill(p, 16);
   pthread_create(&t, NULL, reader, p); /* ESCAPE-HERE */
   pthread_join(t, NULL);
   free(p);
}

int main(void)
{
   handoff();
   return 0;
}
