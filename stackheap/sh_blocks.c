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

   There are three tables: malloc-family blocks, the blocks of memory pools
   (VALGRIND_MEMPOOL_ALLOC), which may be carved out of a malloc'd arena,
   and VALGRIND_MALLOCLIKE_BLOCK blocks, which may lie inside either (a
   custom allocator handing out objects from pool chunks).  Blocks of one
   table never overlap.  An address belongs to the innermost block
   containing it, so the tables are searched MALLOCLIKE first, then pool,
   then malloc. */

#include "pub_tool_aspacemgr.h"
#include "pub_tool_poolalloc.h"
#include "sh_global.h"
#include "sh_vgapi.h"

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

static Index malloc_index, pool_index, custom_index;
/* Malloc'd blocks recently found by SH_(block_containing), by granule
   (direct-mapped).  An entry holds the block's bounds, so a hit reads no
   block record, and whether stores of pointers into it can still teach
   anything (SH_(store_settled)).  index_remove() clears a block's entries,
   so an entry is always a live block at its current place and size. */
#define FOUND_BITS 12
#define FOUND_MASK ((1 << FOUND_BITS) - 1)
typedef struct { Addr start; SizeT size; Block* b; UWord settled; } Found;
static Found found_cache[1 << FOUND_BITS];

static inline Found* found_slot(Addr a)
{
   return &found_cache[(a >> GRAN_BITS) & FOUND_MASK];
}

static PoolAlloc* block_pool;

Addr SH_(heap_lo)   = 0;
Addr SH_(heap_span) = 0;
static Addr heap_hi = 0;

static void* zeroed_mem(SizeT n, const HChar* what)
{
   return SH_(shadow_alloc)(n, what);   /* fresh anonymous pages: zero */
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

/* b leaves the malloc table (freed, moved, resized, parked): forget it. */
static void found_forget(const Block* b)
{
   Addr g, first = b->start >> GRAN_BITS, last = (b->start + span_of(b) - 1) >> GRAN_BITS;
   if (last - first >= FOUND_MASK) {
      UWord i;
      for (i = 0; i <= FOUND_MASK; i++)
         if (found_cache[i].b == b) VG_(memset)(&found_cache[i], 0, sizeof(Found));
      return;
   }
   for (g = first; g <= last; g++) {
      Found* f = &found_cache[g & FOUND_MASK];
      if (f->b == b) VG_(memset)(f, 0, sizeof(Found));
   }
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
         /* Part of a region old covers whole: old was filed with a larger
            size than it has now (SH_(custom_move) sets the old size back
            before the resize re-files the block).  Whatever old covered
            is gone with it; the re-filing that follows sets it again. */
         *e = 0;
      }
      a = rbase + region;
      if (a == 0) break;
   }
}

/* The table a block belongs in: its pool must be set before it is
   inserted (a pool's handle may change, never to or from 0). */
static Index* index_of(const Block* b)
{
   if (!b->custom) return &malloc_index;
   return SH_(block_pool)(b) ? &pool_index : &custom_index;
}

/* Calls fn(b, arg) for the blocks of ix starting in [lo, hi), in address
   order, until fn returns True; returns whether it did.  Regions without
   a chunk hold no start and are skipped whole. */
static Bool walk_starts(Index* ix, Addr lo, Addr hi, Bool (*fn)(Block*, void*), void* arg)
{
   const Addr gran = 1 << GRAN_BITS, region = (Addr)1 << REGION_BITS;
   Addr a = lo & ~(gran - 1);
   if (hi > ADDR_LIMIT) hi = ADDR_LIMIT;
   while (a < hi) {
      Addr rnext = (a & ~(region - 1)) + region;
      Slot* t = ix->top[a >> TOP_SHIFT];
      Slot e;
      if (t == NULL) {
         a = ((a >> TOP_SHIFT) + 1) << TOP_SHIFT;
         continue;
      }
      e = t[(a >> REGION_BITS) & ((1 << L2_BITS) - 1)];
      if (e == 0 || IS_COVER(e)) { a = rnext; continue; }
      for (; a < rnext && a < hi; a += gran) {
         Slot sl = ((Slot*)e)[slot_no(a)];
         Block* b;
         if (sl == 0 || IS_COVER(sl)) continue;
         for (b = (Block*)sl; b != NULL; b = b->next) {
            if (b->start < lo) continue;
            if (b->start >= hi) return False;
            if (fn(b, arg)) return True;
         }
      }
   }
   return False;
}

static Bool stop_at_any(Block* b, void* arg)
{
   return True;
}

/* check: refuse a block overlapping one of its table (custom blocks:
   declared twice, straddling, or swallowing a smaller one).  malloc's
   blocks never overlap (the allocator hands out free memory), and a
   resize in place has been checked by its caller. */
static Bool index_insert(Index* ix, Block* b, Bool check)
{
   SizeT len = span_of(b);
   Addr first = b->start & ~(Addr)((1 << GRAN_BITS) - 1);
   Addr last = (b->start + len - 1) & ~(Addr)((1 << GRAN_BITS) - 1);
   Slot* sl;
   Block** link;
   /* Outside the table, or wrapping around: refused as if overlapping. */
   if (b->start >= ADDR_LIMIT || len > ADDR_LIMIT - b->start) return False;
   /* Refuse overlaps (a custom block declared twice, or straddling). */
   if (check && (find(ix, b->start, True) != NULL
                 || walk_starts(ix, b->start + 1, b->start + len, stop_at_any, NULL)))
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
   if (ix == &malloc_index) found_forget(b);
}

void SH_(blocks_init)(void)
{
   block_pool = VG_(newPA)(sizeof(Block), 4096, VG_(malloc), "sh.blocks", VG_(free));
   malloc_index.top = zeroed_mem(sizeof(Slot*) << L1_BITS, "sh.blocks.l1");
   pool_index.top = zeroed_mem(sizeof(Slot*) << L1_BITS, "sh.blocks.l1");
   custom_index.top = zeroed_mem(sizeof(Slot*) << L1_BITS, "sh.blocks.l1");
   SH_(records_init)();
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
   } else if (b->start >= SH_(heap_lo) && end <= heap_hi) {
      return;   /* (nearly always: the generated code's copy stays right) */
   } else {
      if (b->start < SH_(heap_lo)) SH_(heap_lo) = b->start;
      if (end > heap_hi) heap_hi = end;
   }
   SH_(heap_span) = heap_hi - SH_(heap_lo);
   SH_(filter_copy_heap_changed)();
}

Bool SH_(blocks_insert)(Block* b)
{
   if (!index_insert(index_of(b), b, b->custom)) return False;
   widen_bounds(b);
   return True;
}

void SH_(block_discard)(Block* b)
{
   tl_assert(!b->indexed);
   SH_(bx_drop)(b);
   VG_(freeEltPA)(block_pool, b);
}

void SH_(blocks_detach)(Block* b)
{
   index_remove(index_of(b), b);
}

void SH_(blocks_remove)(Block* b)
{
   SH_(blocks_detach)(b);
   SH_(bx_drop)(b);
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
      Bool ok = index_insert(index_of(b), b, False);
      tl_assert(ok);
      /* (The heap bounds are not widened: they never were for a resize
         in place, and reports must not change with this table.) */
   }
}

Block* SH_(block_exact)(Addr a, Bool custom)
{
   Block* b = find(custom ? &custom_index : &malloc_index, a, True);
   tl_assert(b == NULL || b->custom == custom);
   return (b != NULL && b->start == a) ? b : NULL;
}

Block* SH_(pool_block_exact)(Addr a)
{
   Block* b = find(&pool_index, a, True);
   return (b != NULL && b->start == a) ? b : NULL;
}

static Addr within_hi;

static Bool collect_within(Block* b, void* out)
{
   if (b->start + span_of(b) <= within_hi) VG_(addToXA)((XArray*)out, &b);
   return False;
}

void SH_(custom_blocks_within)(Addr lo, Addr hi, XArray* out)
{
   within_hi = hi;
   (void)walk_starts(&custom_index, lo, hi, collect_within, out);
}

Block* SH_(block_containing)(Addr a)
{
   Block* b;
   if (UNLIKELY(custom_index.n_blocks + pool_index.n_blocks > 0)) {
      b = find(&custom_index, a, False);
      if (b != NULL) return b;
      b = find(&pool_index, a, False);
      if (b != NULL) return b;
   }
   /* Most pointers stored go to blocks stored recently: a direct-mapped
      cache by granule saves the table's three dependent loads and the
      block record's (find() was 6-7% of jq's run with a two-entry cache
      that read the record).  A malloc'd block spanning a is the only one
      there is: the custom and pool tables, whose blocks may lie inside
      it, came first. */
   {
      Found* f = found_slot(a);
      if (f->b != NULL && a - f->start < f->size) return f->b;
      b = find(&malloc_index, a, False);
      if (b != NULL) {
         f->start = b->start;
         f->size = b->size;
         f->b = b;
         f->settled = False;
      }
      return b;
   }
}

/* Whether a lies in a malloc'd block found recently and marked settled:
   one load, no block record.  Only while no custom or pool block exists
   (one of those could lie inside the malloc'd block and answer for a). */
Bool SH_(store_settled)(Addr a)
{
   const Found* f = found_slot(a);
   return f->settled && a - f->start < f->size
          && custom_index.n_blocks + pool_index.n_blocks == 0;
}

/* b, just found containing a by SH_(block_containing), is settled. */
void SH_(mark_settled)(Addr a, const Block* b)
{
   Found* f = found_slot(a);
   if (f->b == b) f->settled = True;
}

ULong SH_(n_live_blocks)(void)
{
   return malloc_index.n_blocks + custom_index.n_blocks + pool_index.n_blocks;
}

/* In address order, malloc blocks, then MALLOCLIKE, then pool blocks
   (callers such as the exit code rely on a fixed order for deterministic
   reports).  fn may
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
   for_each_in(&pool_index, fn);
}

ULong SH_(blocks_table_bytes)(void)
{
   return (malloc_index.n_chunks + pool_index.n_chunks + custom_index.n_chunks)
          * (sizeof(Slot) << L3_BITS);
}

/* Every live block is filed (its chain is in address order), is found at
   its start, its middle and its last byte (as itself, or as a custom block
   carved out of it), lies inside the heap bounds, and the blocks of each
   table do not overlap. */
static Int lookup_rank(const Block* b)
{
   return !b->custom ? 2 : SH_(block_pool)(b) ? 1 : 0;   /* block_containing's order */
}

static Addr prev_end;
static Bool set_ok;
static ULong n_with_extra;

static void check_block(Block* b)
{
   Addr probes[3];
   Int i;
   Block* got;
   if (!set_ok) return;
   if (!SH_(records_sane)(b)) { set_ok = False; return; }
   if (b->xid != 0) n_with_extra++;
   if (!b->indexed || b->start < prev_end
       || (b->next != NULL && b->next->start <= b->start)) {
      set_ok = False;
      return;
   }
   prev_end = b->start + span_of(b);
   if (b->size == 0) return;
   if (b->start < SH_(heap_lo) || b->start + b->size - SH_(heap_lo) > SH_(heap_span)) {
      set_ok = False;
      return;
   }
   probes[0] = b->start;
   probes[1] = b->start + b->size / 2;
   probes[2] = b->start + b->size - 1;
   for (i = 0; i < 3; i++) {
      got = SH_(block_containing)(probes[i]);
      if (got == b) continue;
      /* An address belongs to the innermost block: a block carved out of
         b (searched first) may answer for it. */
      if (got != NULL && lookup_rank(got) < lookup_rank(b)) continue;
      set_ok = False;
   }
}

Bool SH_(blocks_sane)(void)
{
   UWord i;
   /* Every cached lookup is a live malloc'd block at its place and size. */
   for (i = 0; i <= FOUND_MASK; i++) {
      const Found* f = &found_cache[i];
      if (f->b == NULL) continue;
      SH_SANE(f->b->indexed && !f->b->custom && f->b->start == f->start
              && f->b->size == f->size && find(&malloc_index, f->start, True) == f->b,
              "lookup cache entry %lu is not a live block\n", i);
   }
   set_ok = True;
   n_with_extra = 0;
   prev_end = 0;
   for_each_in(&malloc_index, check_block);
   SH_SANE(set_ok, "a malloc'd block is not found where it lies\n");
   prev_end = 0;
   for_each_in(&custom_index, check_block);
   SH_SANE(set_ok, "a custom block is not found where it lies\n");
   prev_end = 0;
   for_each_in(&pool_index, check_block);
   SH_SANE(set_ok, "a memory pool's block is not found where it lies\n");
   return SH_(extras_sane)(n_with_extra);
}
