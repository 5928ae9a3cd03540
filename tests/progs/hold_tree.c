/* A small tree whose nodes point at their parent, first child and next
   and previous siblings, built by a helper and freed in the function that
   built it: every node is held only by other nodes of the tree (a cycle of
   back-pointers), so all are eligible, with their home in build_and_free. */
#include "cls_common.h"

struct node {
   struct node* parent;
   struct node* child;
   struct node* next;
   struct node* prev;
   long v;
};

NOINLINE static struct node* new_node(struct node* parent, long v)
{
   struct node* n = calloc(1, sizeof *n); /* ALLOC-NODE */
   n->v = v;
   n->parent = parent;
   if (parent != NULL) {
      struct node* last = parent->child;
      if (last == NULL) parent->child = n;
      else {
         while (last->next) last = last->next;
         last->next = n;
         n->prev = last;
      }
   }
   return n;
}

NOINLINE static long sum_tree(const struct node* n)
{
   long s = 0;
   for (; n != NULL; n = n->next) s += n->v + sum_tree(n->child);
   return s;
}

NOINLINE static void free_tree(struct node* n)
{
   while (n != NULL) {
      struct node* next = n->next;
      free_tree(n->child);
      free(n);
      n = next;
   }
}

NOINLINE static long build_and_free(void)
{
   struct node* root = new_node(NULL, 1);
   long s;
   int i, j;
   for (i = 0; i < cls_four; i++) {
      struct node* c = new_node(root, 10 + i);
      for (j = 0; j < cls_two; j++) new_node(c, 100 + j);
   }
   s = sum_tree(root);
   free_tree(root);
   return s;
}

int main(void)
{
   cls_sink += build_and_free();
   return 0;
}
