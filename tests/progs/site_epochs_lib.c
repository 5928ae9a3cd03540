/* A library for site_epochs.c, built twice: LIB_NAME names the function
   that allocates, the only difference between the two copies, so the
   second copy's code is the first one's byte for byte when it is
   loaded at the first one's address. */
#include <stdlib.h>

#define NOINLINE __attribute__((noipa))
volatile long lib_sink;

NOINLINE void LIB_NAME(int n)
{
   char* p = malloc(64 + n);
   p[0] = (char)n;
   lib_sink += p[0];
   free(p);
}

void lib_alloc(int n)
{
   LIB_NAME(n);
   lib_sink++;
}
