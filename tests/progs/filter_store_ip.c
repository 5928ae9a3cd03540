/* Stores whose code location the store helper reads from the guest RIP,
   or is given as a constant where RIP does not hold it
   (tests/test_store_filter.py): the first instruction of a function (of
   a superblock), a compare-and-swap, and a loop whose first instruction
   is the store, so that VEX unrolls it and the store runs again at the
   start of the loop body's second copy, where RIP still holds the
   loop's branch (the `while` line). */
#include "cls_common.h"

char* g_first;
char* g_cas;
char* g_arr[16];

NOINLINE static void publish(char* p)
{
   g_first = p; /* ESCAPE-FIRST */
}

NOINLINE static int cas_in(char* p)
{
   char* expected = NULL;
   return __atomic_compare_exchange_n(&g_cas, &expected, p, 0, __ATOMIC_SEQ_CST, /* ESCAPE-CAS */
                                      __ATOMIC_SEQ_CST);
}

/* src[0] and src[1] are NULL: the first pointer is stored by the third
   pass, the second one through the loop's own superblock. */
NOINLINE static void spread(char** dst, char* const* src, long n)
{
   char* v = src[0];
   long i = 0;
   do {
      dst[i] = v; /* ESCAPE-LOOP */
      v = src[++i];
   } while (i < n);
}

int main(void)
{
   char* src[17] = {0};
   char* a = malloc(24); /* ALLOC-FIRST */
   char* b = malloc(25); /* ALLOC-CAS */
   char* c = malloc(26); /* ALLOC-CAS-FAILS */
   char* d = malloc(27); /* ALLOC-LOOP */
   int i;
   fill(a, 24);
   publish(a);
   cls_sink += cas_in(b);
   cls_sink += cas_in(c);   /* g_cas is b now: fails, stores nothing */
   for (i = 2; i < 8; i++) src[i] = d;
   spread(g_arr, src, 8);
   use(c);
   free(a);
   free(b);
   free(c);
   free(d);
   return 0;
}
