/* The tool serves small requests from size classes (sh_heap.c) and the
 * others from the core's arena.  The program checks what natively holds
 * for any malloc, and prints one line per check (FAIL lines on error):
 *   sizes:    every size 0..5000 (and some big ones) with malloc, calloc,
 *             realloc, memalign, posix_memalign and aligned_alloc at
 *             alignments 8..8192: aligned, distinct, each filled with its
 *             own byte and still holding it once all are allocated (no two
 *             overlap), calloc's memory zero, malloc_usable_size == size
 *             (under Valgrind)
 *   reuse:    a block filled with 0xAA and freed; calloc of the same size
 *             is zero even if it reuses the memory
 *   chains:   realloc chains growing 1..3000 bytes one byte at a time and
 *             shrinking back keep their contents
 *   verdicts: escape_then_free() stores its block in a global and frees it
 *             (class global); reuse_in_frame() then gets a block of the
 *             same size (under the tool: the same address, "same address"
 *             printed) and frees it unescaped (class frame).  The stale
 *             pointer left in the global names the old block, not the new.
 *             holder_then_free() stores its block in main's long-lived
 *             heap block (main's own, freed at the end: class frame) and
 *             frees it (class caller: it could have lived in main's frame);
 *             reuse_after_holder() reuses the address (class frame: the
 *             holder's stale pointer is the old block's).
 *   gap:      buffer_with_end() allocates a 3072-byte buffer (returned to
 *             main, which frees it: caller); next_block_in_frame() gets the
 *             next block of that size, right after it, keeps the buffer's
 *             end pointer in a global (as stdio and C++ vectors do) and
 *             frees its block: class frame, the end pointer is not into it.
 * argv[1]: check every argv[1]-th size only (default 1: all).
 * The program exits 0 when every check passed. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

static int failed;
#define CHECK(c, ...) do { if (!(c)) { failed = 1; printf("FAIL " __VA_ARGS__); \
                                         printf("\n"); } } while (0)

#define N_SIZES 5001
static unsigned char* blocks[N_SIZES * 3];
static size_t sizes[N_SIZES * 3];

static void fill(unsigned char* p, size_t n, size_t k) { memset(p, (int)(k * 7 + 1), n); }
static int holds(const unsigned char* p, size_t n, size_t k)
{
   for (size_t i = 0; i < n; i++) if (p[i] != (unsigned char)(k * 7 + 1)) return 0;
   return 1;
}

static void check_sizes(size_t step)
{
   static const size_t aligns[] = { 8, 16, 32, 64, 128, 4096, 8192 };
   size_t k, n = 0;
   for (k = 0; k < N_SIZES; k += step) {     /* malloc and calloc, every size */
      size_t sz = k;
      unsigned char* p;
      if (k % 2 == 0) {
         p = malloc(sz);
      } else {
         p = calloc(1, sz);
         for (size_t i = 0; p != NULL && i < sz; i++) CHECK(p[i] == 0, "calloc %zu", sz);
      }
      CHECK(p != NULL && (uintptr_t)p % 16 == 0, "malloc %zu", sz);
      /* natively, glibc may give more */
      CHECK(!RUNNING_ON_VALGRIND || malloc_usable_size(p) == sz, "usable %zu: %zu", sz,
            malloc_usable_size(p));
      blocks[n] = p; sizes[n] = sz; fill(p, sz, n); n++;
   }
   for (k = 0; k < N_SIZES; k += step) {     /* aligned, every size at some alignment */
      size_t a = aligns[k % 7], sz = k;
      void* p = NULL;
      switch (k % 3) {
      case 0: p = memalign(a, sz); break;
      case 1: if (posix_memalign(&p, a, sz) != 0) p = NULL; break;
      case 2: p = aligned_alloc(a, (sz + a - 1) / a * a); sz = (sz + a - 1) / a * a; break;
      }
      CHECK(p != NULL && (uintptr_t)p % a == 0, "aligned %zu at %zu", sz, a);
      blocks[n] = p; sizes[n] = sz; fill(p, sz, n); n++;
   }
   for (k = 0; k < N_SIZES; k += step) {     /* realloc'd from another size */
      size_t sz = (k * 37) % 9000;
      unsigned char* p = malloc(k % 50);
      fill(p, k % 50, n);
      p = realloc(p, sz);
      CHECK(p != NULL || sz == 0, "realloc to %zu", sz);
      CHECK(holds(p, sz < k % 50 ? sz : k % 50, n), "realloc %zu -> %zu kept", k % 50, sz);
      if (p != NULL) fill(p, sz, n);
      blocks[n] = p; sizes[n] = sz; n++;
   }
   for (k = 0; k < n; k++)
      CHECK(holds(blocks[k], sizes[k], k), "block %zu (%zu bytes) overwritten", k, sizes[k]);
   for (k = 0; k < n; k += 2) free(blocks[k]);   /* every other one, then the rest */
   for (k = 1; k < n; k += 2) free(blocks[k]);
   for (k = 0; k < 4; k++) {                  /* big ones (the arena's) */
      size_t sz = (size_t)(5000 + k * 100000);
      unsigned char* p = calloc(sz, 1);
      CHECK(p != NULL && p[sz - 1] == 0
            && (!RUNNING_ON_VALGRIND || malloc_usable_size(p) == sz), "big %zu", sz);
      free(p);
   }
   printf("sizes checked\n");
}

static void check_reuse(void)
{
   size_t sz;
   for (sz = 1; sz <= 5000; sz += 99) {
      unsigned char* p = malloc(sz);
      memset(p, 0xAA, sz);
      free(p);
      p = calloc(sz, 1);
      for (size_t i = 0; i < sz; i++) CHECK(p[i] == 0, "calloc after free %zu", sz);
      free(p);
   }
   printf("reuse checked\n");
}

static void check_chains(void)
{
   unsigned char* p = NULL;
   size_t n;
   for (n = 1; n <= 3000; n++) {
      p = realloc(p, n);
      p[n - 1] = (unsigned char)n;
   }
   for (n = 3000; n >= 1; n--) {
      CHECK(p[n - 1] == (unsigned char)n, "chain byte %zu", n);
      p = realloc(p, n);
   }
   free(p);
   printf("chains checked\n");
}

static void* volatile keep;        /* a global: storing a block here escapes it */

/* Each returns its block's address as a number (a pointer kept anywhere
   would be an escape of its own). */
__attribute__((noinline)) static uintptr_t escape_then_free(void)
{
   char* p = malloc(72);
   uintptr_t a = (uintptr_t)p;
   keep = p;
   free(p);
   return a;
}

__attribute__((noinline)) static void reuse_in_frame(uintptr_t old)
{
   char* q = malloc(72);
   printf(old == (uintptr_t)q ? "same address\n" : "other address\n");
   q[0] = 1;
   free(q);
}

__attribute__((noinline)) static uintptr_t holder_then_free(void** holder)
{
   char* p = malloc(200);
   uintptr_t a = (uintptr_t)p;
   holder[3] = p;
   free(p);
   return a;
}

__attribute__((noinline)) static void reuse_after_holder(uintptr_t old)
{
   char* q = malloc(200);
   printf(old == (uintptr_t)q ? "same address\n" : "other address\n");
   q[0] = 1;
   free(q);
}

static char* volatile buf_end;     /* a buffer's end, kept in a global */

__attribute__((noinline)) static char* buffer_with_end(void)
{
   return malloc(3072);
}

/* Allocated right after buf: stores buf's end while its own block is live. */
__attribute__((noinline)) static void next_block_in_frame(char* buf)
{
   char* q = malloc(3072);
   buf_end = buf + 3072;
   q[0] = 1;
   free(q);
}

int main(int argc, char** argv)
{
   /* first, while no block of 3072 bytes was ever freed */
   char* buf = buffer_with_end();
   next_block_in_frame(buf);
   free(buf);
   check_sizes(argc > 1 ? (size_t)atoi(argv[1]) : 1);
   check_reuse();
   check_chains();
   void** holder = malloc(8 * sizeof(void*));   /* a long-lived heap block */
   reuse_in_frame(escape_then_free());
   reuse_after_holder(holder_then_free(holder));
   free(holder);
   return failed;
}
