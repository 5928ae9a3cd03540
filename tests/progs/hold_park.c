/* A record parked in a table that the outer frame owns: the record is
   allocated and freed inside step(), but while alive it sat in run()'s
   table, so its home is run() (caller, depth 1), not step(). */
#include "cls_common.h"

struct rec { long v; };
struct table { struct rec* slot[4]; };

NOINLINE static long scan(const struct table* t)
{
   long s = 0;
   int i;
   for (i = 0; i < 4; i++) if (t->slot[i]) s += t->slot[i]->v;
   return s;
}

NOINLINE static long step(struct table* t, int i)
{
   struct rec* r = malloc(sizeof *r); /* ALLOC-REC */
   long s;
   r->v = i;
   t->slot[i % 4] = r; /* PARK */
   s = scan(t);
   t->slot[i % 4] = NULL;
   free(r);
   return s;
}

NOINLINE static long run(void)
{
   struct table* t = calloc(1, sizeof *t); /* ALLOC-TABLE */
   long s = 0;
   int i;
   for (i = 0; i < cls_three; i++) s += step(t, i);
   free(t);
   return s;
}

int main(void)
{
   cls_sink += run();
   return 0;
}
