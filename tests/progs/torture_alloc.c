/* Impossible and overflowing requests on every allocator entry point.
   Prints what each returns (NULL or not, errno) so that the output under
   the tool can be compared with the native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "valgrind.h"

static void show(const char* what, void* p)
{
   printf("%-34s %s errno=%s\n", what, p ? "ptr" : "NULL",
          p ? "-" : (errno == ENOMEM ? "ENOMEM" : errno == EINVAL ? "EINVAL" : "other"));
   free(p);
   errno = 0;
}

int main(void)
{
   static const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095,
                                   SIZE_MAX / 2 + 1, SIZE_MAX / 2, (size_t)1 << 62 };
   char name[64];
   unsigned i;
   void* p;
   int rc;
   for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      size_t n = sizes[i];
      snprintf(name, sizeof name, "malloc[%u]", i);        show(name, malloc(n));
      snprintf(name, sizeof name, "calloc(1,n)[%u]", i);   show(name, calloc(1, n));
      snprintf(name, sizeof name, "calloc(n,1)[%u]", i);   show(name, calloc(n, 1));
      snprintf(name, sizeof name, "memalign(64)[%u]", i);  show(name, memalign(64, n));
      snprintf(name, sizeof name, "aligned_alloc(64)[%u]", i); show(name, aligned_alloc(64, n));
      snprintf(name, sizeof name, "valloc[%u]", i);        show(name, valloc(n));
      snprintf(name, sizeof name, "pvalloc[%u]", i);       show(name, pvalloc(n));
      p = (void*)1;
      rc = posix_memalign(&p, 64, n);
      printf("posix_memalign[%u]                  rc=%s\n", i,
             rc == ENOMEM ? "ENOMEM" : rc == 0 ? "0" : "other");
      if (rc == 0) free(p);
      {
         char* q = malloc(32);
         char* r;
         strcpy(q, "kept");
         r = realloc(q, n);
         printf("realloc[%u]                         %s old=%s\n", i,
                r ? "ptr" : "NULL", r ? "-" : q);
         free(r ? r : q);
      }
      errno = 0;
   }
   /* calloc whose product overflows (errno not shown: the core's calloc
      replacement returns NULL without setting it, as under memcheck) */
   {
      volatile size_t big = (size_t)1 << 32, two = 2;
      p = calloc(big, big);   printf("calloc(2^32,2^32) %s\n", p ? "ptr" : "NULL");
      p = calloc(SIZE_MAX, two); printf("calloc(SIZE_MAX,2) %s\n", p ? "ptr" : "NULL");
   }
   /* alignments: huge, not a power of two, zero */
   rc = posix_memalign(&p, (size_t)1 << 40, 16);
   printf("posix_memalign(2^40) rc=%s\n", rc == 0 ? "0" : "nonzero");
   if (rc == 0) free(p);
   rc = posix_memalign(&p, 24, 16);
   printf("posix_memalign(24) rc=%s\n", rc == EINVAL ? "EINVAL" : "other");
   p = memalign((size_t)1 << 40, 16);
   printf("memalign(2^40) %s\n", p ? "ptr" : "NULL");   /* either is glibc-like */
   free(p);
   p = memalign(SIZE_MAX, 16);
   printf("memalign(SIZE_MAX) %s\n", p ? "ptr" : "NULL");
   free(p);
   p = memalign(48, 100);
   printf("memalign(48) %s aligned=%d\n", p ? "ptr" : "NULL", p ? (int)((uintptr_t)p % 64 == 0) : -1);
   free(p);
   /* A custom block that wraps around the address space */
   VALGRIND_MALLOCLIKE_BLOCK((void*)(UINTPTR_MAX - 100), 4096, 0, 0);
   VALGRIND_FREELIKE_BLOCK((void*)(UINTPTR_MAX - 100), 0);
   VALGRIND_MALLOCLIKE_BLOCK((void*)4096, SIZE_MAX, 0, 0);
   printf("done\n");
   return 7;
}
