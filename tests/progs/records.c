/* Block records and their side records (sh_records.c).  main keeps 1000
   blocks of 24 bytes in a local array: none of them needs a side record.
   10 of them grow with realloc (a side record each keeps their largest
   size and growth chain) and one is stored into a global (a side record
   keeps where it went): 11 side records at most.  Expected: site
   "make" 1000 blocks, 989 frame, 10 frame of max 48 bytes counted in
   bytes, 1 global. */
#include <stdlib.h>
#include <string.h>

#define N 1000
#define R 10

char* keep;

static __attribute__((noinline)) char* make(void)
{
   char* p = malloc(24);
   memset(p, 0, 24);
   return p;
}

int main(void)
{
   char* b[N];
   int i;
   for (i = 0; i < N; i++) b[i] = make();
   for (i = 0; i < R; i++) b[i] = realloc(b[i], 48);   /* grows: moves */
   keep = b[N - 1];
   keep = NULL;
   for (i = 0; i < N; i++) free(b[i]);
   return 0;
}
