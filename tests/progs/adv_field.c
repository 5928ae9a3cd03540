/* A string stored into a node's field (a link the structure needs): the
 * node outlives the string, which is freed first.  Expected: no
 * remove_escape for the string's line.  argv[1] == "temp": the holder is a
 * temporary freed before the string: remove_escape is kept. */
#include <string.h>
#include "cls_common.h"

struct node { char* name; long v; };
struct node* volatile g_keep;   /* keeps the nodes out of the stack classes (volatile: -O2 keeps the stores) */

NOINLINE static void build(int temp)
{
   struct node* n = malloc(sizeof *n); /* MARK:node */
   char* name = malloc(16); /* MARK:name */
   fill(name, 16);
   n->name = name; /* MARK:store */
   g_keep = n;
   use(n->name);
   if (temp) {
      free(n);
      free(name);
   } else {
      free(name);
      free(n);
   }
   g_keep = NULL;
}

int main(int argc, char** argv)
{
   int i, temp = argc > 1 && strcmp(argv[1], "temp") == 0;
   for (i = 0; i < 50; i++) build(temp);
   return 0;
}
