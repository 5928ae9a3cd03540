/* Holders that cannot live on the stack keep what they hold `heap`:
   a holder stored in a global (after and before it is filled), a cycle
   one of whose members escapes, and a holder that is never freed. */
#include "cls_common.h"

struct box { char* items[3]; };
struct pair { struct pair* other; long v; };

struct outer { struct box* box; };

struct box* volatile g_box;   /* volatile: the stores stay at -O2 */
struct pair* volatile g_a;
struct outer* volatile g_outer;

NOINLINE static void global_after(void)
{
   struct box* b = malloc(sizeof *b); /* ALLOC-BOX-AFTER */
   int i;
   for (i = 0; i < 3; i++) {
      b->items[i] = malloc(8); /* ALLOC-ITEM-AFTER */
      fill(b->items[i], 8);
   }
   g_box = b; /* BOX-GLOBAL-AFTER */
   for (i = 0; i < 3; i++) free(b->items[i]);
   g_box = NULL;
   free(b);
}

NOINLINE static void global_before(void)
{
   struct box* b = malloc(sizeof *b); /* ALLOC-BOX-BEFORE */
   int i;
   g_box = b; /* BOX-GLOBAL-BEFORE */
   for (i = 0; i < 3; i++) {
      b->items[i] = malloc(8); /* ALLOC-ITEM-BEFORE */
      fill(b->items[i], 8);
   }
   for (i = 0; i < 3; i++) free(b->items[i]);
   g_box = NULL;
   free(b);
}

/* Out of line, so that -O2 cannot drop the links as dead stores. */
NOINLINE static void link_pair(struct pair* x, struct pair* y)
{
   x->other = y; /* LINK */
}

NOINLINE static void cycle_escape(void)
{
   struct pair* a = malloc(sizeof *a); /* ALLOC-PAIR-A */
   struct pair* b = malloc(sizeof *b); /* ALLOC-PAIR-B */
   link_pair(a, b);
   link_pair(b, a);
   g_a = a; /* A-GLOBAL */
   cls_sink += a->other->v;
   g_a = NULL;
   free(b);
   free(a);
}

NOINLINE static void leaked_holder(void)
{
   struct box* b = malloc(sizeof *b); /* ALLOC-BOX-LEAK */
   int i;
   for (i = 0; i < 3; i++) {
      b->items[i] = malloc(8); /* ALLOC-ITEM-LEAK */
      fill(b->items[i], 8);
   }
   for (i = 0; i < 3; i++) free(b->items[i]);
   /* b is never freed */
}

NOINLINE static void put_box(struct outer* o, struct box* b)
{
   o->box = b;
}

/* Two levels: the items' holder is held by a block stored in a global. */
NOINLINE static void chain(void)
{
   struct outer* o = malloc(sizeof *o); /* ALLOC-OUTER */
   struct box* b = malloc(sizeof *b); /* ALLOC-BOX-CHAIN */
   int i;
   for (i = 0; i < 3; i++) {
      b->items[i] = malloc(8); /* ALLOC-ITEM-CHAIN */
      fill(b->items[i], 8);
   }
   put_box(o, b);
   g_outer = o;
   for (i = 0; i < 3; i++) free(b->items[i]);
   free(b);
   g_outer = NULL;
   free(o);
}

int main(void)
{
   global_after();
   global_before();
   cycle_escape();
   leaked_holder();
   chain();
   return 0;
}
