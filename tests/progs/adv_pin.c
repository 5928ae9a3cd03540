/* A home pinned by a store into a caller's struct: attach() allocates and
 * stores the pointer into build()'s local struct doc; build() frees it.
 * Expected: caller_owned_storage with home build() (depth 1), its text and
 * home_pins naming the store into d->buf.
 * argv[1] == "recurse": the block is allocated at the bottom of a
 * recursive parse() and stored into main()'s doc: no caller_owned_storage
 * through the recursion, an arena owned by main() instead.
 * argv[1] == "deep": five distinct functions between: no caller_owned_storage
 * (too many frames), an arena instead. */
#include <string.h>
#include "cls_common.h"

struct doc { char* buf; long n; };

NOINLINE static void attach(struct doc* d)
{
   char* p = malloc(40); /* MARK:alloc */
   fill(p, 40);
   d->buf = p; /* MARK:store */
}

NOINLINE static void build(void)
{
   struct doc d;
   attach(&d);
   use(d.buf);
   free(d.buf);
}

NOINLINE static void parse(struct doc* d, int depth)
{
   if (depth == 0) {
      char* p = malloc(95); /* MARK:alloc_rec */
      fill(p, 95);
      d->buf = p; /* MARK:store_rec */
      return;
   }
   parse(d, depth - 1);
   d->n++;
}

NOINLINE static void leaf(struct doc* d)
{
   char* p = malloc(24); /* MARK:alloc_deep */
   fill(p, 24);
   d->buf = p;
}
NOINLINE static void f4(struct doc* d) { leaf(d); d->n++; }
NOINLINE static void f3(struct doc* d) { f4(d); d->n++; }
NOINLINE static void f2(struct doc* d) { f3(d); d->n++; }
NOINLINE static void f1(struct doc* d) { f2(d); d->n++; }

int main(int argc, char** argv)
{
   int i;
   const char* mode = argc > 1 ? argv[1] : "";
   for (i = 0; i < 20; i++) {
      if (strcmp(mode, "recurse") == 0) {
         struct doc d = { 0, 0 };
         parse(&d, 1 + (i % 3));
         use(d.buf);
         free(d.buf);
      } else if (strcmp(mode, "deep") == 0) {
         struct doc d = { 0, 0 };
         f1(&d);
         use(d.buf);
         free(d.buf);
      } else {
         build();
      }
   }
   return 0;
}
