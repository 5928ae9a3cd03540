/* A list built and torn down inside one function: each node's address is
 * stored into the previous node (the list's own links, one allocating
 * line).  Expected: no remove_escape for those links. */
#include "cls_common.h"

struct node { struct node* next; long v; };

NOINLINE static long list_work(int n)
{
   struct node* head = NULL;
   struct node* tail = NULL;
   long s = 0;
   int i;
   for (i = 0; i < n; i++) {
      struct node* x = malloc(sizeof *x); /* MARK:alloc */
      x->next = NULL;
      x->v = i;
      if (tail) tail->next = x; /* MARK:link */
      else head = x;
      tail = x;
   }
   while (head) {
      struct node* nx = head->next;
      s += head->v;
      free(head);
      head = nx;
   }
   return s;
}

int main(void)
{
   int i;
   for (i = 0; i < 20; i++) cls_sink += list_work(10);
   return 0;
}
