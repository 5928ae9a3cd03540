/* A list (header and items) built by a callee and freed by its caller:
   the items are held by the header and by each other, the header by
   nothing; everything lives until the caller frees it, so all are
   caller, depth 1 (home: use_list). */
#include "cls_common.h"

struct item { struct item* next; long v; };
struct list { struct item* head; struct item* tail; int n; };

NOINLINE static struct list* make_list(int n)
{
   struct list* l = calloc(1, sizeof *l); /* ALLOC-HEAD */
   int i;
   for (i = 0; i < n; i++) {
      struct item* it = malloc(sizeof *it); /* ALLOC-ITEM */
      it->v = i;
      it->next = NULL;
      if (l->tail) l->tail->next = it; else l->head = it;
      l->tail = it;
      l->n++;
   }
   return l;
}

NOINLINE static long use_list(void)
{
   struct list* l = make_list(cls_three);
   struct item* it;
   long s = 0;
   for (it = l->head; it; it = it->next) s += it->v;
   while (l->head) {
      it = l->head;
      l->head = it->next;
      free(it);
   }
   free(l);
   return s;
}

int main(void)
{
   cls_sink += use_list();
   return 0;
}
