/* A buggy program that reads blocks after freeing them (as Valgrind's
   memcheck/tests/err_disable3.c does), in main and in a new thread.
   Natively the memory is still mapped; under the tool it must be too:
   big blocks (held back a while), and small ones (size-class chunks,
   never given back) even when 12 MB of them are freed, enough to empty
   whole superblocks of the core's arena. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static char* block;
static char* blocks[64];
static char* small[4000];

__attribute__((noinline)) static int peek(const char* p)
{
   return *(volatile const char*)p;
}

static void* child(void* arg)
{
   return (void*)(long)peek(block + 5);
}

int main(void)
{
   pthread_t t;
   void* r;
   int i;
   block = malloc(10);
   block[5] = 1;
   free(block);
   /* Large blocks get superblocks of their own; freeing them makes the
      allocator give back the emptied ones. */
   for (i = 0; i < 4; i++) free(malloc((size_t)(8 + i) << 20));
   peek(block + 5);
   for (i = 0; i < 64; i++) blocks[i] = malloc(100000);
   for (i = 0; i < 64; i++) free(blocks[i]);
   for (i = 0; i < 4; i++) free(malloc((size_t)(8 + i) << 20));
   for (i = 0; i < 64; i++) peek(blocks[i] + 99999);
   for (i = 0; i < 4000; i++) small[i] = malloc(3000 + i % 1000);
   for (i = 0; i < 4000; i++) free(small[i]);
   for (i = 0; i < 4; i++) free(malloc((size_t)(8 + i) << 20));
   for (i = 0; i < 4000; i++) peek(small[i] + 2999);
   pthread_create(&t, NULL, child, NULL);
   pthread_join(t, &r);
   printf("read after free survived\n");
   return 1;
}
