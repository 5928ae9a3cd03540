/*--------------------------------------------------------------------*/
/*--- stackheap: the table of live heap blocks.       sh_blocks.c  ---*/
/*--------------------------------------------------------------------*/

/* Live blocks are found by address in O(1), whatever their number: the
   address space is cut into 64-byte granules, and a three-level table
   (like memcheck's shadow map) gives each granule one slot:
     - the chain of blocks that start in the granule, linked through
       Block.next in ascending address order, when any does;
     - otherwise a "cover" (the pointer with its low bit set) naming the
       block that spans the granule from an earlier one, or NULL.
   A 64 KiB region lying wholly inside one block is not given slots at all:
   its second-level entry is that block's cover, so a huge block costs
   one write per 64 KiB, not one per granule.

   To find the block containing a: in a's granule, the last chained block
   starting at or before a is the only candidate (blocks do not overlap);
   when every chained block starts after a, or there is a cover, the
   candidate is the block spanning the granule's first byte, which is the
   cover, or else the last block of the previous granule (a block that
   starts in one granule and ends in the next).  A chain holds one or two
   malloc blocks (the client allocator's chunks are at least 32 bytes
   apart); only custom blocks of a few bytes each make longer ones.

   malloc-family blocks and VALGRIND_MALLOCLIKE_BLOCK / mempool blocks have
   one table each, since a custom block may be carved out of a malloc'd
   arena and so lie inside a malloc block; an address belongs to the
   innermost block containing it, so the custom table is searched first. */

#include "pub_tool_aspacemgr.h"
#include "pub_tool_poolalloc.h"
#include "sh_global.h"

#define GRAN_BITS   6                      /* 64-byte granules */
#define L3_BITS     10                     /* slots per third-level chunk: 64 KiB */
#define L2_BITS     16                     /* chunks per second-level table: 4 GiB */
#define L1_BITS     16                     /* 48-bit addresses */
#define REGION_BITS (GRAN_BITS + L3_BITS)  /* address bits one chunk covers */
#define TOP_SHIFT   (REGION_BITS + L2_BITS)
#define ADDR_LIMIT  ((Addr)1 << (TOP_SHIFT + L1_BITS))

/* A slot, or a second-level entry: a Block* chain head, a tagged cover,
   or (second level only) an untagged pointer to a chunk of slots. */
typedef UWord Slot;
#define IS_COVER(s)   (((s) & 1) != 0)
#define COVER_OF(b)   ((Slot)(b) | 1)
#define BLOCK_OF(s)   ((Block*)((s) & ~(Slot)1))

typedef struct {
   Slot** top;        /* [1 << L1_BITS] second-level tables, NULL if none */
   ULong  n_blocks;
   ULong  n_chunks;   /* third-level chunks allocated (statistics) */
} Index;

static Index malloc_index, custom_index;
static Block* recent[2];        /* see SH_(block_containing) */
static UInt recent_next;
static PoolAlloc* block_pool;

Addr SH_(heap_lo)   = 0;
Addr SH_(heap_span) = 0;
static Addr heap_hi = 0;

static void* zeroed_mem(SizeT n, const HChar* what)
{
   void* p = VG_(am_shadow_alloc)(n);   /* fresh anonymous pages: zero */
   if (p == NULL) VG_(out_of_memory_NORETURN)(what, n);
   return p;
}

/* Third-level chunks are carved from 1 MiB slabs (one mapping each, not
   one per chunk).  They are never freed: a region once used by the heap
   is likely to be used again. */
#define SLAB_BYTES (1 << 20)
static UChar* slab_next = NULL;
static UChar* slab_end = NULL;

static Slot* new_chunk(void)
{
   const SizeT n = sizeof(Slot) << L3_BITS;
   Slot* c;
   if (slab_next == NULL || slab_end - slab_next < (Word)n) {
      slab_next = zeroed_mem(SLAB_BYTES, "sh.blocks.l3");
      slab_end = slab_next + SLAB_BYTES;
   }
   c = (Slot*)slab_next;
   slab_next += n;
   return c;
}

static inline Slot* l2_table(Index* ix, Addr a, Bool create)
{
   UWord i = a >> TOP_SHIFT;
   if (UNLIKELY(ix->top[i] == NULL)) {
      if (!create) return NULL;
      ix->top[i] = zeroed_mem(sizeof(Slot) << L2_BITS, "sh.blocks.l2");
   }
   return ix->top[i];
}

static inline Slot* l2_entry(Index* ix, Addr a, Bool create)
{
   Slot* t = l2_table(ix, a, create);
   return t == NULL ? NULL : &t[(a >> REGION_BITS) & ((1 << L2_BITS) - 1)];
}

static inline UWord slot_no(Addr a)
{
   return (a >> GRAN_BITS) & ((1 << L3_BITS) - 1);
}

/* The slot of a's granule, the chunk created when needed.  A region that
   is one block's cover gets a chunk only when asked to create (its slots
   are then all set to that cover). */
static Slot* slot_for(Index* ix, Addr a, Bool create)
{
   Slot* e = l2_entry(ix, a, create);
   Slot* chunk;
   UWord i;
   if (e == NULL) return NULL;
   if (*e == 0 || IS_COVER(*e)) {
      if (!create) return NULL;
      chunk = new_chunk();
      ix->n_chunks++;
      if (*e != 0)
         for (i = 0; i < (1 << L3_BITS); i++) chunk[i] = *e;
      *e = (Slot)chunk;
   }
   return &((Slot*)*e)[slot_no(a)];
}

/* What a's granule holds: a chain, a cover, or 0. */
static inline Slot slot_value(Index* ix, Addr a)
{
   Slot* t = ix->top[a >> TOP_SHIFT];
   Slot e;
   if (t == NULL) return 0;
   e = t[(a >> REGION_BITS) & ((1 << L2_BITS) - 1)];
   if (e == 0 || IS_COVER(e)) return e;
   return ((Slot*)e)[slot_no(a)];
}

/* Bytes a block occupies in the table: a zero-size block takes one, so
   that it has a place (block_containing never reports it). */
static inline SizeT span_of(const Block* b)
{
   return b->size ? b->size : 1;
}

/* The block whose span holds a, in one table.  len1: count zero-size
   blocks as one byte long (for overlap checks and exact lookups). */
static Block* find(Index* ix, Addr a, Bool len1)
{
   Slot s;
   Block* b;
   Block* best = NULL;
   if (UNLIKELY(a >= ADDR_LIMIT)) return NULL;
   s = slot_value(ix, a);
   if (s == 0) return NULL;
   if (!IS_COVER(s)) {
      for (b = (Block*)s; b != NULL && b->start <= a; b = b->next)
         best = b;
      if (best == NULL) {
         /* All start after a: a can only be in a block from before. */
         Addr g = a & ~(Addr)((1 << GRAN_BITS) - 1);
         if (g == 0) return NULL;
         s = slot_value(ix, g - 1);
         if (s == 0) return NULL;
         if (IS_COVER(s)) {
            best = BLOCK_OF(s);
         } else {
            for (best = (Block*)s; best->next != NULL; best = best->next)
               ;
         }
      }
   } else {
      best = BLOCK_OF(s);
   }
   if (a - best->start < (len1 ? span_of(best) : best->size)) return best;
   return NULL;
}

/* Set (b != NULL) or clear (b == NULL, only covers of old) the covers of
   the granules [from, to] (addresses of their first bytes). */
static void set_covers(Index* ix, Addr from, Addr to, Block* b, Block* old)
{
   const Addr gran = 1 << GRAN_BITS, region = (Addr)1 << REGION_BITS;
   Addr a = from;
   while (a <= to) {
      Addr rbase = a & ~(region - 1);
      Addr rlast = rbase + region - gran;       /* its last granule */
      Slot* e = l2_entry(ix, a, b != NULL);
      if (e == NULL) {                          /* clearing: nothing there */
         a = rbase + region;
         if (a == 0) break;
         continue;
      }
      if (a == rbase && rlast <= to && (*e == 0 || IS_COVER(*e))) {
         /* The whole region: one second-level entry. */
         if (b != NULL) *e = COVER_OF(b);
         else if (*e == COVER_OF(old)) *e = 0;
      } else if (*e != 0 && !IS_COVER(*e)) {
         Slot* chunk = (Slot*)*e;
         Addr last = rlast < to ? rlast : to;
         Addr g;
         for (g = a; g <= last; g += gran) {
            Slot* sl = &chunk[slot_no(g)];
            if (b != NULL) { if (*sl == 0 || IS_COVER(*sl)) *sl = COVER_OF(b); }
            else if (*sl == COVER_OF(old)) *sl = 0;
         }
      } else if (b != NULL) {
         /* Part of a region that has no chunk (or is another block's
            stale cover): give it one. */
         (void)slot_for(ix, a, True);
         continue;
      } else if (*e == COVER_OF(old)) {
         /* Clearing part of a region covered by old as a whole cannot
            happen: covers of whole regions are only set over whole
            regions. */
         tl_assert(0);
      }
      a = rbase + region;
      if (a == 0) break;
   }
}

static Index* index_of(const Block* b)
{
   return b->custom ? &custom_index : &malloc_index;
}

/* force: skip the overlap check (a resize in place, which the caller
   has checked as the core did before this table existed). */
static Bool index_insert(Index* ix, Block* b, Bool force)
{
   SizeT len = span_of(b);
   Addr first = b->start & ~(Addr)((1 << GRAN_BITS) - 1);
   Addr last = (b->start + len - 1) & ~(Addr)((1 << GRAN_BITS) - 1);
   Slot* sl;
   Block** link;
   /* Outside the table, or wrapping around: refused as if overlapping. */
   if (b->start >= ADDR_LIMIT || len > ADDR_LIMIT - b->start) return False;
   /* Refuse overlaps (a custom block declared twice, or straddling). */
   if (!force && (find(ix, b->start, True) || find(ix, b->start + len - 1, True)))
      return False;
   sl = slot_for(ix, b->start, True);
   if (*sl == 0 || IS_COVER(*sl)) {
      /* A cover here is a stale one, or the block ending in this granule
         before b: found again through the previous granule. */
      *sl = 0;
   }
   link = (Block**)sl;
   while (*link != NULL && (*link)->start < b->start) link = &(*link)->next;
   b->next = *link;
   *link = b;
   if (last > first) set_covers(ix, first + (1 << GRAN_BITS), last, b, NULL);
   b->indexed = True;
   ix->n_blocks++;
   return True;
}

static void index_remove(Index* ix, Block* b)
{
   SizeT len = span_of(b);
   Addr first = b->start & ~(Addr)((1 << GRAN_BITS) - 1);
   Addr last = (b->start + len - 1) & ~(Addr)((1 << GRAN_BITS) - 1);
   Slot* sl = slot_for(ix, b->start, False);
   Block** link;
   tl_assert(b->indexed && sl != NULL && *sl != 0 && !IS_COVER(*sl));
   link = (Block**)sl;
   while (*link != b) {
      tl_assert(*link != NULL);
      link = &(*link)->next;
   }
   *link = b->next;
   b->next = NULL;
   if (*sl == 0 && first != 0) {
      /* The granule's chain is empty: it may still be spanned by the
         block ending in it, which now needs a cover here. */
      Block* prev = find(ix, first - 1, True);
      if (prev != NULL && prev->start + span_of(prev) > first)
         *sl = COVER_OF(prev);
   }
   if (last > first) set_covers(ix, first + (1 << GRAN_BITS), last, NULL, b);
   b->indexed = False;
   ix->n_blocks--;
   if (recent[0] == b) recent[0] = NULL;
   if (recent[1] == b) recent[1] = NULL;
}

void SH_(blocks_init)(void)
{
   block_pool = VG_(newPA)(sizeof(Block), 4096, VG_(malloc), "sh.blocks", VG_(free));
   malloc_index.top = zeroed_mem(sizeof(Slot*) << L1_BITS, "sh.blocks.l1");
   custom_index.top = zeroed_mem(sizeof(Slot*) << L1_BITS, "sh.blocks.l1");
}

Block* SH_(block_new)(Bool custom)
{
   Block* b = VG_(allocEltPA)(block_pool);
   VG_(memset)(b, 0, sizeof(Block));
   b->custom = custom;
   return b;
}

static void widen_bounds(const Block* b)
{
   Addr end = b->start + b->size;
   if (b->size == 0) return;
   if (SH_(heap_span) == 0 && heap_hi == 0) {
      SH_(heap_lo) = b->start;
      heap_hi = end;
   } else {
      if (b->start < SH_(heap_lo)) SH_(heap_lo) = b->start;
      if (end > heap_hi) heap_hi = end;
   }
   SH_(heap_span) = heap_hi - SH_(heap_lo);
}

Bool SH_(blocks_insert)(Block* b)
{
   if (!index_insert(index_of(b), b, False)) return False;
   widen_bounds(b);
   return True;
}

void SH_(block_discard)(Block* b)
{
   tl_assert(!b->indexed);
   VG_(freeEltPA)(block_pool, b);
}

void SH_(blocks_detach)(Block* b)
{
   index_remove(index_of(b), b);
}

void SH_(blocks_remove)(Block* b)
{
   SH_(blocks_detach)(b);
   VG_(freeEltPA)(block_pool, b);
}

/* The table places a block by its size, so a resize in place re-files
   it (the block keeps its identity and every field). */
void SH_(block_set_size)(Block* b, SizeT n)
{
   Bool was = b->indexed;
   if (was) index_remove(index_of(b), b);
   b->size = n;
   if (was) {
      Bool ok = index_insert(index_of(b), b, True);
      tl_assert(ok);
      /* (The heap bounds are not widened: they never were for a resize
         in place, and reports must not change with this table.) */
   }
}

Block* SH_(block_exact)(Addr a, Bool custom)
{
   Block* b = find(custom ? &custom_index : &malloc_index, a, True);
   return (b != NULL && b->start == a) ? b : NULL;
}

/* The last two malloc blocks found: a store's value and its destination
   are often the same blocks as the previous store's (about half of the
   destinations on perl).  Only live blocks are kept (index_remove drops
   them), and a live block containing a is the one the table would give,
   since malloc blocks do not overlap. */

Block* SH_(block_containing)(Addr a)
{
   Block* b;
   if (UNLIKELY(custom_index.n_blocks > 0)) {
      b = find(&custom_index, a, False);
      if (b != NULL) return b;
   }
   b = recent[0];
   if (b != NULL && a - b->start < b->size) return b;
   b = recent[1];
   if (b != NULL && a - b->start < b->size) return b;
   b = find(&malloc_index, a, False);
   if (b != NULL) recent[recent_next++ & 1] = b;
   return b;
}

ULong SH_(n_live_blocks)(void)
{
   return malloc_index.n_blocks + custom_index.n_blocks;
}

/* In address order, malloc blocks first (callers such as the exit and
   mempool code rely on a fixed order for deterministic reports).  fn may
   remove the block it is given. */
static void for_each_in(Index* ix, void (*fn)(Block*))
{
   UWord i, j, k;
   for (i = 0; i < ((UWord)1 << L1_BITS); i++) {
      Slot* t = ix->top[i];
      if (t == NULL) continue;
      for (j = 0; j < (1 << L2_BITS); j++) {
         Slot* chunk;
         if (t[j] == 0 || IS_COVER(t[j])) continue;
         chunk = (Slot*)t[j];
         for (k = 0; k < (1 << L3_BITS); k++) {
            Block* b;
            Block* next;
            if (chunk[k] == 0 || IS_COVER(chunk[k])) continue;
            for (b = (Block*)chunk[k]; b != NULL; b = next) {
               next = b->next;
               fn(b);
            }
         }
      }
   }
}

void SH_(blocks_for_each)(void (*fn)(Block*))
{
   for_each_in(&malloc_index, fn);
   for_each_in(&custom_index, fn);
}

ULong SH_(blocks_table_bytes)(void)
{
   return (malloc_index.n_chunks + custom_index.n_chunks) * (sizeof(Slot) << L3_BITS);
}
