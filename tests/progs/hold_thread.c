/* A holder handed to another thread as the pthread_create argument is
   `thread`; the items it held are `heap`, even though the creator frees
   them all after the join. */
#include <pthread.h>
#include "cls_common.h"

struct box { char* items[2]; long n; };

/* Reads only the count: the items' addresses never reach this thread. */
NOINLINE static void* reader(void* arg)
{
   struct box* b = arg;
   cls_sink += b->n;
   return NULL;
}

NOINLINE static void handoff(void)
{
   pthread_t t;
   struct box* b = malloc(sizeof *b); /* ALLOC-BOX */
   b->items[0] = malloc(8); /* ALLOC-ITEM */
   b->items[1] = malloc(8); /* ALLOC-ITEM2 */
   fill(b->items[0], 8);
   fill(b->items[1], 8);
   b->n = 2;
   pthread_create(&t, NULL, reader, b);
   pthread_join(t, NULL);
   free(b->items[0]);
   free(b->items[1]);
   free(b);
}

int main(void)
{
   handoff();
   return 0;
}
