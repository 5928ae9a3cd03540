/*--------------------------------------------------------------------*/
/*--- stackheap: what keeps block records small.     sh_records.c  ---*/
/*--------------------------------------------------------------------*/

/* A live block's record (Block, sh_global.h) holds what most blocks use;
   two kinds of shared or rare data are kept here, by 32-bit index:

   - side records (BlockExtra): the fields of resized blocks, pool blocks,
     blocks whose home a stack store moved, blocks that escaped to a
     global or another thread, and blocks in the holder graph.  One is
     made on first need and freed with the block.  They sit in chunks of
     4096, reused through a free list, so finding one is two loads;
   - store points: a block's first escaping store location, its class,
     and the holder's site for a heap escape; or, while it has not escaped,
     the stack store that pinned its home.  Millions of blocks are stored
     at a few code locations, so each distinct point is stored once (a
     hash table finds it when a block first escapes or its home moves). */

#include "pub_tool_threadstate.h"
#include "sh_global.h"

/*------------------------------------------------------------*/
/*--- Side records                                         ---*/
/*------------------------------------------------------------*/

#define XCHUNK (1 << SH_XCHUNK_BITS)

BlockExtra** SH_(xchunks) = NULL;
static UInt  n_xchunks = 0, cap_xchunks = 0;
static UInt  x_next = 1;        /* next never-used index (0 means none) */
static UInt  x_free = 0;        /* free list, linked through the growth field */
static ULong x_live = 0, x_max = 0;

static BlockExtra* x_at(UInt i)
{
   return &SH_(xchunks)[i >> SH_XCHUNK_BITS][i & (XCHUNK - 1)];
}

static UInt x_alloc(void)
{
   UInt i;
   if (x_free != 0) {
      i = x_free;
      x_free = x_at(i)->growth;
      return i;
   }
   /* 2^32 side records would be 200 GB: the index cannot overflow first. */
   tl_assert(x_next < 0xFFFFFFFFu);
   i = x_next++;
   if ((i >> SH_XCHUNK_BITS) >= n_xchunks) {
      if (n_xchunks == cap_xchunks) {
         cap_xchunks = cap_xchunks ? 2 * cap_xchunks : 64;
         SH_(xchunks) = VG_(realloc)("sh.xchunks", SH_(xchunks),
                                     cap_xchunks * sizeof(BlockExtra*));
      }
      SH_(xchunks)[n_xchunks++] = VG_(malloc)("sh.blockx", XCHUNK * sizeof(BlockExtra));
   }
   return i;
}

BlockExtra* SH_(bx_make)(Block* b)
{
   BlockExtra* x = SH_(bx)(b);
   if (x != NULL) return x;
   b->xid = x_alloc();
   if (++x_live > x_max) x_max = x_live;
   x = x_at(b->xid);
   VG_(memset)(x, 0, sizeof *x);
   /* What a block without one implies (sh_global.h): it was never resized
      (a resize makes one before the size changes). */
   x->max_size = b->size;
   x->chain_first = b->size;
   return x;
}

void SH_(bx_drop)(Block* b)
{
   BlockExtra* x = SH_(bx)(b);
   if (x == NULL) return;
   tl_assert(x->hn == NULL);
   x->growth = x_free;
   x_free = b->xid;
   b->xid = 0;
   tl_assert(x_live > 0);
   x_live--;
}

ULong SH_(max_block_extras)(void)
{
   return x_max;
}

/*------------------------------------------------------------*/
/*--- Store points                                         ---*/
/*------------------------------------------------------------*/

StorePoint* SH_(store_pts) = NULL;
static UInt n_pts = 0, cap_pts = 0;
static UInt* pt_hash = NULL;    /* open addressing: index into store_pts, 0 empty */
static UInt  pt_hash_size = 0;  /* a power of two, at least twice n_pts */

static UInt pt_hash_of(Addr ip, UChar cls, const Site* dest_site)
{
   ULong h = (ULong)ip * 0x9E3779B97F4A7C15ULL;
   h ^= ((ULong)(Addr)dest_site >> 4) * 0xC2B2AE3D27D4EB4FULL;
   h ^= cls;
   return (UInt)(h ^ (h >> 29));
}

static void pt_rehash(void)
{
   UInt i, size = pt_hash_size ? 2 * pt_hash_size : 256;
   UInt* t = VG_(calloc)("sh.storept.hash", size, sizeof(UInt));
   for (i = 1; i < n_pts; i++) {
      const StorePoint* e = &SH_(store_pts)[i];
      UInt h = pt_hash_of(e->ip, e->cls, e->dest_site) & (size - 1);
      while (t[h] != 0) h = (h + 1) & (size - 1);
      t[h] = i;
   }
   if (pt_hash) VG_(free)(pt_hash);
   pt_hash = t;
   pt_hash_size = size;
}

static UInt last_pt = 0;   /* blocks often escape where the previous one did */

UInt SH_(store_pt_for)(Addr ip, UChar cls, const Site* dest_site)
{
   UInt h;
   StorePoint* e = &SH_(store_pts)[last_pt];
   if (last_pt != 0 && e->ip == ip && e->cls == cls && e->dest_site == dest_site)
      return last_pt;
   if (2 * n_pts >= pt_hash_size) pt_rehash();
   h = pt_hash_of(ip, cls, dest_site) & (pt_hash_size - 1);
   while (pt_hash[h] != 0) {
      e = &SH_(store_pts)[pt_hash[h]];
      if (e->ip == ip && e->cls == cls && e->dest_site == dest_site)
         return last_pt = pt_hash[h];
      h = (h + 1) & (pt_hash_size - 1);
   }
   if (n_pts == cap_pts) {
      cap_pts *= 2;
      SH_(store_pts) = VG_(realloc)("sh.storept", SH_(store_pts), cap_pts * sizeof(StorePoint));
   }
   e = &SH_(store_pts)[n_pts];
   e->ip = ip;
   e->cls = cls;
   e->dest_site = dest_site;
   pt_hash[h] = n_pts;
   last_pt = n_pts;
   return n_pts++;
}

void SH_(records_init)(void)
{
   /* Block.tid has 16 bits (the core has parsed --max-threads by now). */
   if (VG_N_THREADS > (1 << 16)) {
      VG_(fmsg)("stackheap: --max-threads=%u is more than the %u threads stackheap "
                "can tell apart\n", VG_N_THREADS, 1 << 16);
      VG_(exit)(1);
   }
   cap_pts = 256;
   SH_(store_pts) = VG_(calloc)("sh.storept", cap_pts, sizeof(StorePoint));
   n_pts = 1;   /* 0: none (ip 0) */
   pt_rehash();
}

/*------------------------------------------------------------*/
/*--- Sanity                                               ---*/
/*------------------------------------------------------------*/

/* A block's indexes name a record in use and a known store point, and
   its side record agrees with it. */
Bool SH_(records_sane)(const Block* b)
{
   const BlockExtra* x;
   SH_SANE(b->store_pt < n_pts, "a block's store point %u of %u\n", b->store_pt, n_pts);
   SH_SANE(b->store_pt == 0
           || (SH_(store_pts)[b->store_pt].cls == SH_PT_HOME) == (b->escape == SH_ESC_NONE),
           "a block's store point is not of its escape state\n");
   SH_SANE(b->store_pt == 0 || b->escape != SH_ESC_NONE || b->home_idx < b->alloc_idx,
           "a block's home pinned by a store without moving\n");
   SH_SANE(b->tid < VG_N_THREADS, "a block's thread %u\n", (UInt)b->tid);
   SH_SANE(b->alloc_idx < 0 || b->home_idx <= b->alloc_idx, "a block's home below its frame\n");
   if (b->xid == 0) return True;
   SH_SANE(b->xid < x_next, "a block's side record %u of %u\n", b->xid, x_next);
   x = SH_(bx)(b);
   SH_SANE(x->max_size >= b->size, "a block's largest size %lu below its size %lu\n",
           x->max_size, b->size);
   SH_SANE(x->pool == 0 || b->custom, "a malloc'd block with a memory pool\n");
   SH_SANE(x->growth == 0 || b->counted, "an uncounted block in a growth chain\n");
   return True;
}

/* The side records' free list and count agree with the indexes handed
   out; n_live_with: side records of the blocks in the table (parked
   blocks, waiting on holders, have theirs too). */
Bool SH_(extras_sane)(ULong n_live_with)
{
   ULong n_free = 0;
   UInt i;
   SH_SANE(n_live_with <= x_live, "%llu live blocks with side records, %llu counted\n",
           n_live_with, x_live);
   SH_SANE(x_max >= x_live, "side records above their peak\n");
   for (i = x_free; i != 0; i = x_at(i)->growth) {
      SH_SANE(i < x_next && n_free < x_next, "side record free list broken at %u\n", i);
      n_free++;
   }
   SH_SANE(n_free + x_live == x_next - 1, "%llu free + %llu live side records, %u made\n",
           n_free, x_live, x_next - 1);
   return True;
}
