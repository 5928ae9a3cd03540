/* A pointer stored into another heap block that is itself freed in the
   same frame: the holder can live there, so the block can too (frame;
   stackheap-1 said heap).  A block pointing at itself stays frame. */
#include "cls_common.h"

struct node { char* data; long n; };
struct self { struct self* self; long x; };

NOINLINE static long read_node(const struct node* n)
{
   return use(n->data) + n->n;
}

NOINLINE static void to_heap(void)
{
   struct node* n = malloc(sizeof *n); /* ALLOC-HOLDER */
   char* p = malloc(16); /* ALLOC-DATA */
   fill(p, 16);
   n->n = 1;
   n->data = p; /* ESCAPE-HEAP */
   read_node(n);
   free(p);
   free(n);
}

NOINLINE static void self_ptr(void)
{
   struct self* s = malloc(sizeof *s); /* ALLOC-SELF */
   s->self = s; /* STORE-SELF */
   s->x = 7;
   use(s->self);
   free(s);
}

int main(void)
{
   to_heap();
   int i;
   for (i = 0; i < cls_two; i++) self_ptr();
   return 0;
}
