/*--------------------------------------------------------------------*/
/*--- stackheap: the table of live heap blocks.       sh_blocks.c  ---*/
/*--------------------------------------------------------------------*/

/* Live blocks are kept in three ordered sets keyed by address range: one
   for malloc-family blocks, one for the blocks of memory pools
   (VALGRIND_MEMPOOL_ALLOC), which may be carved out of a malloc'd arena,
   and one for VALGRIND_MALLOCLIKE_BLOCK blocks, which may lie inside
   either (a custom allocator handing out objects from pool chunks).  An
   address belongs to the innermost block containing it, so the sets are
   searched MALLOCLIKE first, then pool, then malloc.  Lookups are O(log n), allocate nothing,
   and a one-entry cache in front catches the common case of several
   pointers into the same block in a row. */

#include "pub_tool_oset.h"
#include "sh_global.h"

static OSet* malloc_set;
static OSet* custom_set;
static OSet* pool_set;
/* Blocks in custom_set and pool_set: one test in block_containing's fast path. */
static ULong n_custom_blocks = 0;
static ULong next_uid = 1;

/* A direct-mapped cache in front of the malloc set, indexed by the
   address's 16-byte granule.  An entry is trusted only while the block it
   names still carries the same uid (Block nodes come from a pool and are
   only ever reused as Blocks, so a stale pointer is safe to read) and
   still contains the address.  Used only while there are no custom
   blocks, which could lie inside a cached malloc block. */
#define SH_CACHE_BITS 18
typedef struct { Block* b; ULong uid; } CacheEntry;
static CacheEntry cache[1 << SH_CACHE_BITS];

static inline CacheEntry* cache_slot(Addr a)
{
   return &cache[(a >> 4) & ((1 << SH_CACHE_BITS) - 1)];
}

Addr SH_(heap_lo)   = 0;
Addr SH_(heap_span) = 0;
static Addr heap_hi = 0;

/* key: an address; elem: a Block.  0 when the address is inside it.  A
   zero-size block is given one byte so that it still has a place in the
   order; SH_(block_containing) does not report it. */
static Word cmp_addr_block(const void* key, const void* elem)
{
   Addr a = *(const Addr*)key;
   const Block* b = elem;
   SizeT len = b->size ? b->size : 1;
   if (a < b->start) return -1;
   if (a - b->start >= len) return 1;
   return 0;
}

void SH_(blocks_init)(void)
{
   malloc_set = VG_(OSetGen_Create_With_Pool)(offsetof(Block, start), cmp_addr_block,
                                              VG_(malloc), "sh.blocks.m", VG_(free),
                                              1024, sizeof(Block));
   custom_set = VG_(OSetGen_EmptyClone)(malloc_set);
   pool_set = VG_(OSetGen_EmptyClone)(malloc_set);
}

/* The set a block belongs in: b->pool must be set before it is inserted. */
static OSet* set_of(const Block* b)
{
   if (!b->custom) return malloc_set;
   return b->pool ? pool_set : custom_set;
}

Block* SH_(block_new)(Bool custom)
{
   /* The sets share one node pool (EmptyClone), so any set allocates. */
   Block* b = VG_(OSetGen_AllocNode)(malloc_set, sizeof(Block));
   VG_(memset)(b, 0, sizeof(Block));
   b->custom = custom;
   b->uid = next_uid++;
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
   OSet* set = set_of(b);
   SizeT len = b->size ? b->size : 1;
   Addr last = b->start + len - 1;
   tl_assert(b->uid != 0 && last >= b->start);   /* (wrapping blocks are refused earlier) */
   /* Refuse overlaps of custom blocks (declared twice, straddling, or
      swallowing a smaller one): the set's order needs disjoint ranges.
      malloc's blocks never overlap: the allocator hands out free memory. */
   if (b->custom) {
      Block* next;
      if (VG_(OSetGen_Lookup)(set, &b->start))
         return False;
      VG_(OSetGen_ResetIterAt)(set, &b->start);     /* first block after start */
      next = VG_(OSetGen_Next)(set);
      if (next != NULL && next->start <= last)
         return False;
   }
   VG_(OSetGen_Insert)(set, b);
   if (b->custom) n_custom_blocks++;
   widen_bounds(b);
   return True;
}

void SH_(block_discard)(Block* b)
{
   b->uid = 0;
   VG_(OSetGen_FreeNode)(set_of(b), b);
}

void SH_(blocks_detach)(Block* b)
{
   OSet* set = set_of(b);
   Block* got = VG_(OSetGen_Remove)(set, &b->start);
   tl_assert(got == b);
   if (b->custom) n_custom_blocks--;
}

void SH_(blocks_remove)(Block* b)
{
   SH_(blocks_detach)(b);
   b->uid = 0;   /* invalidates cache entries naming it */
   VG_(OSetGen_FreeNode)(set_of(b), b);
}

Block* SH_(block_exact)(Addr a, Bool custom)
{
   Block* b = VG_(OSetGen_Lookup)(custom ? custom_set : malloc_set, &a);
   tl_assert(b == NULL || b->custom == custom);
   return (b != NULL && b->start == a) ? b : NULL;
}

Block* SH_(pool_block_exact)(Addr a)
{
   Block* b = VG_(OSetGen_Lookup)(pool_set, &a);
   return (b != NULL && b->start == a) ? b : NULL;
}

void SH_(custom_blocks_within)(Addr lo, Addr hi, XArray* out)
{
   Block* b;
   VG_(OSetGen_ResetIterAt)(custom_set, &lo);
   while ((b = VG_(OSetGen_Next)(custom_set)) != NULL && b->start < hi) {
      SizeT len = b->size ? b->size : 1;
      if (b->start >= lo && b->start + len <= hi) VG_(addToXA)(out, &b);
   }
}

Block* SH_(block_containing)(Addr a)
{
   CacheEntry* e;
   Block* b;
   if (UNLIKELY(n_custom_blocks > 0)) {
      b = VG_(OSetGen_Lookup)(custom_set, &a);
      if (b != NULL && a - b->start < b->size) return b;
      b = VG_(OSetGen_Lookup)(pool_set, &a);
      if (b != NULL && a - b->start < b->size) return b;
      b = VG_(OSetGen_Lookup)(malloc_set, &a);
      return (b != NULL && a - b->start < b->size) ? b : NULL;
   }
   e = cache_slot(a);
   b = e->b;
   if (b != NULL && b->uid == e->uid && a - b->start < b->size)
      return b;
   b = VG_(OSetGen_Lookup)(malloc_set, &a);
   if (b != NULL && a - b->start < b->size) {
      e->b = b;
      e->uid = b->uid;
      return b;
   }
   return NULL;
}

ULong SH_(n_live_blocks)(void)
{
   return VG_(OSetGen_Size)(malloc_set) + VG_(OSetGen_Size)(custom_set)
          + VG_(OSetGen_Size)(pool_set);
}

void SH_(blocks_for_each)(void (*fn)(Block*))
{
   Block* b;
   VG_(OSetGen_ResetIter)(malloc_set);
   while ((b = VG_(OSetGen_Next)(malloc_set)) != NULL) fn(b);
   VG_(OSetGen_ResetIter)(custom_set);
   while ((b = VG_(OSetGen_Next)(custom_set)) != NULL) fn(b);
   VG_(OSetGen_ResetIter)(pool_set);
   while ((b = VG_(OSetGen_Next)(pool_set)) != NULL) fn(b);
}

/* Every live block is found at its start, its middle and its last byte
   (as itself, or as a custom block carved out of it), lies inside the
   heap bounds, and each set is ordered without overlaps. */
static Int lookup_rank(const Block* b)
{
   return !b->custom ? 2 : b->pool ? 1 : 0;   /* block_containing's order */
}

static Addr prev_end;
static Bool set_ok;

static void check_block(Block* b)
{
   Addr probes[3];
   Int i;
   Block* got;
   if (!set_ok) return;
   if (b->uid == 0 || b->uid >= next_uid || b->start < prev_end) { set_ok = False; return; }
   prev_end = b->start + (b->size ? b->size : 1);
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
   Block* b;
   set_ok = True;
   prev_end = 0;
   VG_(OSetGen_ResetIter)(malloc_set);
   while ((b = VG_(OSetGen_Next)(malloc_set)) != NULL) check_block(b);
   SH_SANE(set_ok, "a malloc'd block is not found where it lies\n");
   prev_end = 0;
   VG_(OSetGen_ResetIter)(custom_set);
   while ((b = VG_(OSetGen_Next)(custom_set)) != NULL) check_block(b);
   SH_SANE(set_ok, "a custom block is not found where it lies\n");
   prev_end = 0;
   VG_(OSetGen_ResetIter)(pool_set);
   while ((b = VG_(OSetGen_Next)(pool_set)) != NULL) check_block(b);
   SH_SANE(set_ok, "a memory pool's block is not found where it lies\n");
   return True;
}
