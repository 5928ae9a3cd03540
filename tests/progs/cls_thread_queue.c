/* A pointer handed to another thread through a global queue: global wins
   over thread (the other thread frees it). */
#include <pthread.h>
#include "cls_common.h"

char* g_queue[4];
int g_queue_len;

NOINLINE static void* consumer(void* arg)
{
   (void)arg;
   while (g_queue_len > 0) {
      char* p = g_queue[--g_queue_len];
      use(p);
      free(p);
   }
   return NULL;
}

NOINLINE static void producer(void)
{
   pthread_t t;
   char* p = malloc(16); /* ALLOC-HERE */
   fill(p, 16);
   g_queue[g_queue_len++] = p; /* ESCAPE-HERE */
   pthread_create(&t, NULL, consumer, NULL);
   pthread_join(t, NULL);
}

int main(void)
{
   producer();
   return 0;
}
