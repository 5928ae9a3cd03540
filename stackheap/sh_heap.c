/*--------------------------------------------------------------------*/
/*--- stackheap: the program's memory, by size class.   sh_heap.c  ---*/
/*--------------------------------------------------------------------*/

/* Where the memory of the program's malloc'd blocks comes from and goes
   back to (sh_alloc.c decides which blocks exist; this file only hands
   out and takes back bytes).

   The core's arena (VG_(cli_malloc)) does a best-fit search and coalesces
   on every free: ~10% of a malloc-heavy program's run under the tool.
   glibc answers small requests from per-size free lists, and so does
   this file:
   - requests of up to SH_HEAP_MAX bytes at the default alignment get a
     chunk of the smallest size class that fits, from that class's free
     list (last freed, first reused: its memory is still in the cache) or
     else carved from a slab.  Slabs (SH_SLAB_BYTES) are taken from the
     client arena with VG_(cli_malloc), so the chunks are client memory as
     before, and are never given back: a freed chunk stays mapped, so a
     program that reads a block after freeing it (harmless natively) stays
     harmless here.
   - bigger or over-aligned requests go to the arena as before, and their
     frees are held back for a while (the held queues below).
   Classes are 16 bytes apart up to 128, then four per doubling: above
   128 bytes at most 25% apart, so less than 20% of a chunk is lost to
   rounding.  A chunk has no header (the block's record keeps its class,
   Block.heap_cls), but is followed by SH_HEAP_GAP bytes never handed out:
   a pointer just past a block's end (a buffer's or a vector's end, kept
   in a global) must not point at the next block, or that block would seem
   to escape.  glibc's chunk headers and the arena's redzones keep blocks
   apart in the same way.  With the gap, a 64-byte granule of the block
   table (sh_blocks.c) holds the starts of at most two malloc blocks, as
   with the arena.  An arena block has 32 bytes of header and redzones on
   amd64, the gap is 16: up to 128 bytes a chunk takes 16 bytes less than
   the arena block it replaces, above up to about a fifth more.
   The free lists are arrays in tool memory, not links inside the freed
   chunks: a program writing to a block after freeing it must not be able
   to corrupt them.
   Tool code runs under the core's big lock (one thread at a time), so
   nothing here needs a lock. */

#include "pub_tool_replacemalloc.h"
#include "sh_global.h"

/*------------------------------------------------------------*/
/*--- Size classes                                         ---*/
/*------------------------------------------------------------*/

/* The largest request served from a size class.  Chosen by measurement
   on the bench programs (python, perl, gawk, jq, sqlite): 98-99.99% of
   their requests are at most 4 KB; 16 KB took most of sqlite's remaining
   0.6% off the arena (0.2% of its run) but doubled its slabs. */
#define SH_HEAP_MAX    4096
/* Chunks are aligned to this (slabs are, and every class size is a
   multiple of it); over-aligned requests go to the arena. */
#define SH_HEAP_ALIGN  16
/* Bytes left unused after each chunk (see above); keeps chunks aligned. */
#define SH_HEAP_GAP    16
/* Slab size: a quarter of the client arena's 4 MB superblock, less room
   for the arena's own headers, so four share one superblock. */
#define SH_SLAB_BYTES  ((1 << 20) - 256)

/* Chunk size of each class; class 0 is "from the arena". */
static const UInt class_size[] = {
   0,
   16, 32, 48, 64, 80, 96, 112, 128,
   160, 192, 224, 256,
   320, 384, 448, 512,
   640, 768, 896, 1024,
   1280, 1536, 1792, 2048,
   2560, 3072, 3584, 4096
};
#define N_CLASSES (sizeof(class_size) / sizeof(class_size[0]))

/* The class of a request of n bytes (n <= SH_HEAP_MAX): class_of[(n+15)/16]. */
static UChar class_of[SH_HEAP_MAX / 16 + 1];

typedef struct {
   Addr*  free;       /* free chunks, the last freed on top */
   UInt   n_free, cap;
   ULong  in_use;     /* chunks handed out and not given back */
   ULong  carved;     /* chunks cut from slabs: in_use + n_free */
   ULong  gets;       /* requests served (--stats) */
} SizeClass;

static SizeClass classes[N_CLASSES];

/* The slab being carved: [bump, bump_end). */
static Addr bump = 0, bump_end = 0;

/* Every slab's start, ascending (for the sanity checks). */
static Addr* slabs = NULL;
static UInt n_slabs = 0, slabs_cap = 0;

/* --stats */
static ULong n_arena_gets = 0;     /* requests given to the arena */
static ULong rounded_bytes = 0;    /* class bytes handed out minus bytes asked for */
static ULong class_bytes = 0;      /* class bytes handed out */
static ULong tail_bytes = 0;       /* slab ends too short for the next chunk */

void SH_(heap_init)(void)
{
   UInt c = 1, i;
   tl_assert(N_CLASSES - 1 <= SH_HEAP_MAX_CLASS);
   tl_assert(class_size[N_CLASSES - 1] == SH_HEAP_MAX);
   for (i = 0; i <= SH_HEAP_MAX / 16; i++) {
      while (class_size[c] < i * 16) c++;
      tl_assert(c < N_CLASSES && class_size[c] % SH_HEAP_ALIGN == 0);
      class_of[i] = c;
   }
}

static void note_slab(Addr s)
{
   UInt i;
   if (n_slabs == slabs_cap) {
      slabs_cap = slabs_cap ? 2 * slabs_cap : 64;
      slabs = VG_(realloc)("sh.heap.slabs", slabs, slabs_cap * sizeof(Addr));
   }
   for (i = n_slabs; i > 0 && slabs[i - 1] > s; i--) slabs[i] = slabs[i - 1];
   slabs[i] = s;
   n_slabs++;
}

/* A new chunk of class c (and its gap) from the slab, 0 when the arena
   has no memory left.  The end of a slab too short for the chunk is left
   unused (less than SH_HEAP_MAX + SH_HEAP_GAP of SH_SLAB_BYTES). */
static Addr carve(UInt c)
{
   Addr p;
   SizeT sz = class_size[c] + SH_HEAP_GAP;
   if (bump_end - bump < sz) {
      Addr s = (Addr)VG_(cli_malloc)(SH_HEAP_ALIGN, SH_SLAB_BYTES);
      if (s == 0) return 0;
      tl_assert(s % SH_HEAP_ALIGN == 0);
      tail_bytes += bump_end - bump;
      note_slab(s);
      bump = s;
      bump_end = s + SH_SLAB_BYTES;
   }
   p = bump;
   bump += sz;
   classes[c].carved++;
   return p;
}

static void push_free(SizeClass* sc, Addr p)
{
   if (UNLIKELY(sc->n_free == sc->cap)) {
      sc->cap = sc->cap ? 2 * sc->cap : 256;
      sc->free = VG_(realloc)("sh.heap.free", sc->free, sc->cap * sizeof(Addr));
   }
   sc->free[sc->n_free++] = p;
}

/*------------------------------------------------------------*/
/*--- Freed arena memory held back                         ---*/
/*------------------------------------------------------------*/

/* Freed arena blocks are not given back at once.  The arena unmaps a
   superblock as soon as it (and one other) is empty, and a buggy program
   that reads a block after freeing it, harmless natively (glibc keeps the
   memory mapped), would then die of SIGSEGV under the tool.  As memcheck
   does, freed memory is held, oldest given back first:
   - blocks of SH_HELD_MID bytes and more, up to SH_HELD_BYTES in all,
     those of SH_HELD_BIG and more given back before the others (so a few
     big frees do not flush every other block).  These are the ones whose
     superblocks the arena gives back (a block over 4 MB has its own);
   - smaller blocks, up to SH_HELD_SMALL_BYTES only.  They share 4 MB
     superblocks, which are given back only once every block in them is
     free, and holding many of them is what costs: the arena can no longer
     hand a freed block straight back to the next malloc, so the program
     works in memory gone cold (10 MB of them made python 50% slower).
   Size-class chunks never come here: their slabs are never given back.
   Each block is charged what it costs while held, not just its requested
   size: the arena's header and redzones and our queue entry
   (SH_HELD_OVERHEAD, about 70 bytes on amd64) on top of the payload
   rounded to 16. */
#define SH_HELD_BYTES       (10 * 1024 * 1024)
#define SH_HELD_BIG         (1024 * 1024)
#define SH_HELD_MID         (64 * 1024)
#define SH_HELD_SMALL_BYTES (256 * 1024)
#define SH_HELD_OVERHEAD    64

typedef struct { void* p; SizeT n; } Held;
typedef struct { Held* q; UInt cap, head, len; ULong bytes; } HeldQueue;
static HeldQueue held_small, held_mid, held_big;

static void held_push(HeldQueue* hq, void* p, SizeT n)
{
   if (hq->len == hq->cap) {
      /* Grow, unrolling the ring so it starts at 0. */
      UInt i, cap = hq->cap ? 2 * hq->cap : 256;
      Held* q = VG_(malloc)("sh.held", cap * sizeof(Held));
      for (i = 0; i < hq->len; i++) q[i] = hq->q[(hq->head + i) % hq->cap];
      if (hq->q) VG_(free)(hq->q);
      hq->q = q; hq->cap = cap; hq->head = 0;
   }
   hq->q[(hq->head + hq->len) % hq->cap] = (Held){ p, n };
   hq->len++;
   hq->bytes += n;
}

static void held_pop(HeldQueue* hq)
{
   Held h;
   tl_assert(hq->len > 0);
   h = hq->q[hq->head];
   hq->head = (hq->head + 1) % hq->cap;
   hq->len--;
   tl_assert(hq->bytes >= h.n);
   hq->bytes -= h.n;
   VG_(cli_free)(h.p);
}

/* An arena block freed (n: its size).  The held-small queue is for arena
   blocks below SH_HELD_MID only (over-aligned ones, and those above
   SH_HEAP_MAX): size-class chunks are never unmapped, so they need no
   holding back. */
static void release_memory(void* p, SizeT n)
{
   n = VG_ROUNDUP(n, 16) + SH_HELD_OVERHEAD;   /* its cost while held */
   if (n < SH_HELD_MID) {
      held_push(&held_small, p, n);
      while (held_small.bytes > SH_HELD_SMALL_BYTES) held_pop(&held_small);
      return;
   }
   held_push(n >= SH_HELD_BIG ? &held_big : &held_mid, p, n);
   while (held_mid.bytes + held_big.bytes > SH_HELD_BYTES) {
      if (held_big.len > 0) held_pop(&held_big);
      else held_pop(&held_mid);
   }
}

/*------------------------------------------------------------*/
/*--- Getting and giving back                              ---*/
/*------------------------------------------------------------*/

void* SH_(heap_get)(SizeT n, SizeT align, /*OUT*/UInt* cls)
{
   if (LIKELY(n <= SH_HEAP_MAX && align <= SH_HEAP_ALIGN)) {
      UInt c = class_of[(n + 15) >> 4];
      SizeClass* sc = &classes[c];
      Addr p;
      tl_assert(c > 0 && class_size[c] >= n);
      if (sc->n_free > 0) {
         p = sc->free[--sc->n_free];
      } else {
         p = carve(c);
         if (p == 0) { *cls = 0; return NULL; }
      }
      sc->in_use++;
      sc->gets++;
      class_bytes += class_size[c];
      rounded_bytes += class_size[c] - n;
      *cls = c;
      return (void*)p;
   }
   *cls = 0;
   n_arena_gets++;
   return VG_(cli_malloc)(align, n);
}

void SH_(heap_put)(void* p, SizeT n, UInt cls)
{
   SizeClass* sc;
   if (cls == 0) { release_memory(p, n); return; }
   tl_assert(cls < N_CLASSES && n <= class_size[cls]);
   sc = &classes[cls];
   tl_assert(sc->in_use > 0);
   sc->in_use--;
   push_free(sc, (Addr)p);
}

/*------------------------------------------------------------*/
/*--- Sanity and statistics                                ---*/
/*------------------------------------------------------------*/

static Bool in_a_slab(Addr p)
{
   UInt lo = 0, hi = n_slabs;   /* the last slab starting at or before p */
   while (hi - lo > 1) {
      UInt mid = (lo + hi) / 2;
      if (slabs[mid] <= p) lo = mid; else hi = mid;
   }
   return n_slabs > 0 && slabs[lo] <= p && p - slabs[lo] < SH_SLAB_BYTES;
}

/* A live block's chunk: in a slab with its gap, big enough. */
Bool SH_(heap_chunk_sane)(Addr p, SizeT n, UInt cls)
{
   if (cls == 0) return True;
   return cls < N_CLASSES && n <= class_size[cls] && p % SH_HEAP_ALIGN == 0
          && in_a_slab(p) && in_a_slab(p + class_size[cls] + SH_HEAP_GAP - 1);
}

#define SH_SANE_FREE 64   /* free chunks checked per class */

/* live[c]: the live blocks in the block table with chunks of class c
   (NULL: the table was not walked). */
Bool SH_(heap_sane)(Bool full, const ULong* live)
{
   UInt c, i, q;
   SH_SANE(held_small.bytes <= SH_HELD_SMALL_BYTES
           && held_mid.bytes + held_big.bytes <= SH_HELD_BYTES,
           "%llu + %llu + %llu freed bytes held\n",
           held_small.bytes, held_mid.bytes, held_big.bytes);
   for (c = 1; c < N_CLASSES; c++)
      SH_SANE(classes[c].carved == classes[c].in_use + classes[c].n_free,
              "class %u bytes: %llu chunks carved, %llu in use, %u free\n", class_size[c],
              classes[c].carved, classes[c].in_use, classes[c].n_free);
   if (!full) return True;
   /* Freed memory, held back or on a free list, is no live block's. */
   {
      const HeldQueue* queues[3] = { &held_small, &held_mid, &held_big };
      for (q = 0; q < 3; q++) {
         const HeldQueue* hq = queues[q];
         ULong held = 0;
         for (i = 0; i < hq->len; i++) {
            const Held* h = &hq->q[(hq->head + i) % hq->cap];
            held += h->n;
            SH_SANE(SH_(block_exact)((Addr)h->p, False) == NULL,
                    "a freed block (%lu bytes) is still in the live set\n", h->n);
         }
         SH_SANE(held == hq->bytes, "held bytes %llu, counted %llu\n", hq->bytes, held);
      }
   }
   for (c = 1; c < N_CLASSES; c++) {
      const SizeClass* sc = &classes[c];
      /* Only the most recently freed chunks (a program has hundreds of
         thousands free): a chunk wrongly freed is on top until reused,
         and one freed twice breaks the count below. */
      for (i = sc->n_free > SH_SANE_FREE ? sc->n_free - SH_SANE_FREE : 0;
           i < sc->n_free; i++) {
         SH_SANE(in_a_slab(sc->free[i]) && sc->free[i] % SH_HEAP_ALIGN == 0,
                 "a free %u-byte chunk is in no slab\n", class_size[c]);
         SH_SANE(SH_(block_exact)(sc->free[i], False) == NULL,
                 "a free %u-byte chunk is a live block\n", class_size[c]);
      }
      /* Each chunk in use is one live block's (a chunk freed twice, or
         never, would break this). */
      if (live != NULL)
         SH_SANE(live[c] == sc->in_use, "class %u bytes: %llu chunks in use, %llu live "
                 "blocks\n", class_size[c], sc->in_use, live[c]);
   }
   return True;
}

void SH_(heap_print_stats)(void)
{
   ULong gets = 0, in_use = 0, free = 0;
   UInt c;
   for (c = 1; c < N_CLASSES; c++) {
      gets += classes[c].gets;
      in_use += classes[c].in_use;
      free += classes[c].n_free;
   }
   VG_(dmsg)("stackheap: client memory: %'llu requests from size classes (%llu%% of the "
             "rounded bytes lost to rounding), %'llu from the arena\n", gets,
             class_bytes ? rounded_bytes * 100 / class_bytes : 0, n_arena_gets);
   VG_(dmsg)("stackheap: client memory: %'u slabs of %'u bytes (%'llu unused slab ends), "
             "%'llu chunks in use and %'llu free at exit\n", n_slabs, SH_SLAB_BYTES,
             tail_bytes, in_use, free);
}
