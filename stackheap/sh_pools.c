/*--------------------------------------------------------------------*/
/*--- stackheap: memory pools.                        sh_pools.c   ---*/
/*--------------------------------------------------------------------*/

/* A memory pool is named by its handle (the "anchor" address given to
   VALGRIND_CREATE_MEMPOOL; VALGRIND_MOVE_MEMPOOL changes it).  Its blocks
   are blocks like malloc's (sh_alloc.c gives them their verdicts), kept
   in the block table's pool set with the handle as their pool, and listed
   here too so that DESTROY, TRIM and MOVE reach them without scanning
   every block.  As in memcheck:
   - a block is freed only through its own pool: MEMPOOL_FREE through
     another handle is refused with a warning naming both pools;
   - METAPOOL: the pool's chunks are not the program's objects, the
     VALGRIND_MALLOCLIKE_BLOCK blocks carved out of them are.  So chunks of
     a metapool are not blocks (nothing is counted twice); they are kept
     here as address ranges;
   - AUTO_FREE: MEMPOOL_FREE of a chunk frees the MALLOCLIKE blocks lying
     inside it, each retired with its own verdict (only MEMPOOL_FREE does
     this, not TRIM or DESTROY, as in memcheck);
   - TRIM frees the blocks wholly outside the kept range and cuts those
     straddling it; MEMPOOL_CHANGE moves or resizes a block, which keeps
     its site and history; DESTROY frees every block of the pool.
   Requests naming no pool are refused with a warning, as memcheck reports
   an "illegal memory pool address". */

#include "pub_tool_oset.h"
#include "pub_tool_stacktrace.h"
#include "sh_global.h"
#include "valgrind.h"   /* VALGRIND_MEMPOOL_AUTO_FREE, VALGRIND_MEMPOOL_METAPOOL */

/* A member of a pool: a block's start (size unused: the Block has it) or,
   for a metapool, a chunk. */
typedef struct {
   Addr  start;
   SizeT size;
} Member;

typedef struct {
   Addr  handle;        /* the key */
   UInt  serial;        /* 1-based creation order: "pool #N" */
   Bool  metapool, auto_free;
   Addr  created_ip;    /* where it was created (allocator frames skipped) */
   OSet* members;       /* of Member, by start */
} Pool;

static OSet*   pools;       /* of Pool, by handle */
static XArray* metapools;   /* of Pool*: live metapools (few), for MALLOCLIKE */
static UInt    n_created;

void SH_(pools_init)(void)
{
   pools = VG_(OSetGen_Create)(offsetof(Pool, handle), NULL,
                               VG_(malloc), "sh.pools", VG_(free));
   metapools = VG_(newXA)(VG_(malloc), "sh.metapools", VG_(free), sizeof(Pool*));
}

static Pool* pool_of(Addr handle)
{
   return VG_(OSetGen_Lookup)(pools, &handle);
}

/* The creating line: the first frame that is not an allocator function
   (--alloc-fn), so that a wrapper like MemoryContextCreate names its caller. */
static Addr creation_ip(ThreadId tid)
{
   Addr ips[16];
   UInt n = VG_(get_StackTrace)(tid, ips, 16, NULL, NULL, 0);
   UInt k = SH_(count_alloc_frames)(ips, n);
   if (k < n) return ips[k];
   return n > 0 ? ips[n - 1] : 0;
}

static void name_pool(const Pool* p, HChar* buf, Int n)
{
   HChar* loc = SH_(code_loc_dup)(p->created_ip);
   VG_(snprintf)(buf, n, "pool #%u (created at %s)", p->serial, loc);
   VG_(free)(loc);
}

HChar* SH_(pool_site_name_dup)(const Site* s)
{
   HChar* loc = SH_(code_loc_dup)(s->pool_ip);
   HChar* out = SH_(printf_dup)("the memory pool created at %s", loc);
   VG_(free)(loc);
   return out;
}

static void tag_site(Block* b, const Pool* p)
{
   Site* s = b->site;
   if (s == NULL) return;
   if (s->pool_ip == 0 && s->blocks == 1) s->pool_ip = p->created_ip;
   else if (s->pool_ip != p->created_ip) s->pool_mixed = True;
}

static void add_member(Pool* p, Addr start, SizeT size)
{
   Member* m;
   if (VG_(OSetGen_Contains)(p->members, &start)) return;
   m = VG_(OSetGen_AllocNode)(p->members, sizeof(Member));
   m->start = start;
   m->size = size;
   VG_(OSetGen_Insert)(p->members, m);
}

static void drop_member(Pool* p, Addr start)
{
   Member* m = VG_(OSetGen_Remove)(p->members, &start);
   if (m != NULL) VG_(OSetGen_FreeNode)(p->members, m);
}

/* The members' starts, copied: retiring blocks changes the set. */
static XArray* member_list(Pool* p)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.pool.list", VG_(free), sizeof(Member));
   Member* m;
   VG_(OSetGen_ResetIter)(p->members);
   while ((m = VG_(OSetGen_Next)(p->members)) != NULL) VG_(addToXA)(xa, m);
   return xa;
}

/* key: an address; elem: a chunk.  0 when the address is inside it. */
static Word cmp_in_chunk(const void* key, const void* elem)
{
   Addr a = *(const Addr*)key;
   const Member* m = elem;
   SizeT len = m->size ? m->size : 1;
   if (a < m->start) return -1;
   if (a - m->start >= len) return 1;
   return 0;
}

/* The metapool whose chunk holds [a, a+n), if any, and that chunk. */
static Pool* metapool_holding(Addr a, SizeT n, /*OUT*/Member** chunk)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(metapools); i++) {
      Pool* p = *(Pool**)VG_(indexXA)(metapools, i);
      Member* m = VG_(OSetGen_LookupWithCmp)(p->members, &a, cmp_in_chunk);
      if (m != NULL && a + n <= m->start + (m->size ? m->size : 1)) {
         if (chunk) *chunk = m;
         return p;
      }
   }
   return NULL;
}

void SH_(pool_note_malloclike)(Block* b)
{
   Pool* p;
   if (VG_(sizeXA)(metapools) == 0) return;
   p = metapool_holding(b->start, b->size, NULL);
   if (p != NULL) tag_site(b, p);
}

/* MALLOCLIKE blocks inside a freed chunk of an AUTO_FREE pool die with it. */
static void auto_free_within(ThreadId tid, Addr lo, SizeT n)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.pool.auto", VG_(free), sizeof(Block*));
   Word i;
   SH_(custom_blocks_within)(lo, lo + n, xa);
   for (i = 0; i < VG_(sizeXA)(xa); i++)
      SH_(custom_retire)(tid, *(Block**)VG_(indexXA)(xa, i));
   VG_(deleteXA)(xa);
}

/*------------------------------------------------------------*/
/*--- The requests                                         ---*/
/*------------------------------------------------------------*/

void SH_(pool_create)(ThreadId tid, Addr handle, UWord flags)
{
   Pool* p = pool_of(handle);
   HChar name[512];
   if (handle == 0) {
      /* a block's pool 0 means "no pool": a null handle cannot name one. */
      SH_(misuse)(tid, False, "VALGRIND_CREATE_MEMPOOL with a null handle (ignored)");
      return;
   }
   if (p != NULL) {
      name_pool(p, name, sizeof name);
      SH_(misuse)(tid, False, "VALGRIND_CREATE_MEMPOOL with the handle of %s, which "
                  "was not destroyed (ignored; the pool keeps its blocks)", name);
      return;
   }
   p = VG_(OSetGen_AllocNode)(pools, sizeof(Pool));
   VG_(memset)(p, 0, sizeof(Pool));
   p->handle = handle;
   p->serial = ++n_created;
   p->metapool = (flags & VALGRIND_MEMPOOL_METAPOOL) != 0;
   p->auto_free = (flags & VALGRIND_MEMPOOL_AUTO_FREE) != 0;
   p->created_ip = creation_ip(tid);
   p->members = VG_(OSetGen_Create)(offsetof(Member, start), NULL,
                                    VG_(malloc), "sh.pool.members", VG_(free));
   VG_(OSetGen_Insert)(pools, p);
   if (p->metapool) VG_(addToXA)(metapools, &p);
   if (p->auto_free && !p->metapool) {
      name_pool(p, name, sizeof name);
      SH_(misuse)(tid, False, "%s has VALGRIND_MEMPOOL_AUTO_FREE without "
                  "VALGRIND_MEMPOOL_METAPOOL (memcheck refuses this); freeing one of "
                  "its blocks also frees the MALLOCLIKE blocks inside it", name);
   }
}

/* The pool of handle, or NULL after warning with msg (a request through
   an address that is not a pool). */
static Pool* pool_or_warn(ThreadId tid, Addr handle, const HChar* msg)
{
   Pool* p = pool_of(handle);
   if (p == NULL) SH_(misuse)(tid, False, "%s", msg);
   return p;
}

void SH_(pool_alloc)(ThreadId tid, Addr handle, Addr a, SizeT n)
{
   Pool* p = pool_or_warn(tid, handle, "VALGRIND_MEMPOOL_ALLOC through an address that "
                          "is not a memory pool (ignored; create the pool first)");
   Block* b;
   if (p == NULL) return;
   if (p->metapool) { add_member(p, a, n); return; }
   b = SH_(custom_alloc)(tid, a, n, handle);
   if (b == NULL) return;
   add_member(p, a, 0);
   tag_site(b, p);
}

/* A pool's member at a, and its block (NULL for a metapool chunk). */
static Bool find_member(Pool* p, Addr a, /*OUT*/Member** m, /*OUT*/Block** b)
{
   *m = VG_(OSetGen_Lookup)(p->members, &a);
   *b = NULL;
   if (*m == NULL) return False;
   if (!p->metapool) {
      *b = SH_(pool_block_exact)(a);
      tl_assert(*b != NULL && SH_(block_pool)(*b) == p->handle);
   }
   return True;
}

/* A block or chunk at a that the request did not find in its pool: name
   its real pool (a wrong-pool request), or explain the bad free. */
static void refuse_elsewhere(ThreadId tid, Pool* p, Addr handle, Addr a, const HChar* what)
{
   Block* b = SH_(pool_block_exact)(a);
   Pool* owner = b != NULL ? pool_of(SH_(block_pool)(b)) : NULL;
   Member* chunk;
   HChar via[512], own[512];
   if (owner == NULL) {
      Pool* meta = metapool_holding(a, 1, &chunk);
      if (meta != NULL && chunk->start == a) owner = meta;
   }
   if (p != NULL) name_pool(p, via, sizeof via);
   else VG_(snprintf)(via, sizeof via, "an address that is not a memory pool");
   if (owner != NULL) {
      name_pool(owner, own, sizeof own);
      SH_(misuse)(tid, True, "%s of a block of %s through %s (ignored; the block stays "
                  "in its pool)", what, own, via);
   } else if (p == NULL) {
      SH_(misuse)(tid, True, "%s through %s (ignored; nothing was freed)", what, via);
   } else if (SH_(block_exact)(a, True) != NULL) {
      SH_(misuse)(tid, True, "%s through %s of a VALGRIND_MALLOCLIKE_BLOCK block (ignored; "
                  "free it with VALGRIND_FREELIKE_BLOCK)", what, via);
   } else if (SH_(block_exact)(a, False) != NULL) {
      SH_(misuse)(tid, True, "%s through %s of a block allocated by malloc() (ignored; "
                  "nothing was freed)", what, via);
   } else {
      SH_(warn_bad_free)(tid, a, what);
   }
}

/* auto_free: MEMPOOL_FREE honours AUTO_FREE; TRIM does not (memcheck). */
static void free_member(ThreadId tid, Pool* p, Member* m, Block* b, Bool auto_free)
{
   Addr start = m->start;
   SizeT size = b != NULL ? b->size : m->size;
   drop_member(p, start);
   if (b != NULL) SH_(custom_retire)(tid, b);
   if (auto_free && p->auto_free) auto_free_within(tid, start, size);
}

void SH_(pool_free)(ThreadId tid, Addr handle, Addr a)
{
   Pool* p = pool_of(handle);
   Member* m;
   Block* b;
   if (p != NULL && find_member(p, a, &m, &b)) { free_member(tid, p, m, b, True); return; }
   refuse_elsewhere(tid, p, handle, a, "VALGRIND_MEMPOOL_FREE");
}

void SH_(pool_destroy)(ThreadId tid, Addr handle)
{
   Pool* p = pool_or_warn(tid, handle, "VALGRIND_DESTROY_MEMPOOL of an address that is "
                          "not a memory pool (ignored)");
   XArray* list;
   Word i;
   if (p == NULL) return;
   list = member_list(p);
   if (!p->metapool) {
      for (i = 0; i < VG_(sizeXA)(list); i++) {
         Block* b = SH_(pool_block_exact)(((Member*)VG_(indexXA)(list, i))->start);
         tl_assert(b != NULL);
         SH_(custom_retire)(tid, b);
      }
   }
   VG_(deleteXA)(list);
   for (i = 0; i < VG_(sizeXA)(metapools); i++)
      if (*(Pool**)VG_(indexXA)(metapools, i) == p) {
         VG_(removeIndexXA)(metapools, i);
         break;
      }
   VG_(OSetGen_Remove)(pools, &handle);
   VG_(OSetGen_Destroy)(p->members);
   VG_(OSetGen_FreeNode)(pools, p);
}

void SH_(pool_trim)(ThreadId tid, Addr handle, Addr a, SizeT n)
{
   Pool* p = pool_or_warn(tid, handle, "VALGRIND_MEMPOOL_TRIM of an address that is not "
                          "a memory pool (ignored)");
   XArray* list;
   Word i;
   if (p == NULL) return;
   list = member_list(p);
   for (i = 0; i < VG_(sizeXA)(list); i++) {
      Member* m;
      Block* b;
      Addr lo, hi, klo, khi;
      SizeT size;
      if (!find_member(p, ((Member*)VG_(indexXA)(list, i))->start, &m, &b)) continue;
      size = b != NULL ? b->size : m->size;
      lo = m->start;
      hi = m->start + size;            /* exclusive */
      if (size == 0) {                 /* kept when its address is kept */
         if (lo >= a && lo - a < n) continue;
         free_member(tid, p, m, b, False);
         continue;
      }
      klo = lo > a ? lo : a;
      khi = hi < a + n ? hi : a + n;
      if (klo >= khi) {                /* wholly outside the kept range */
         free_member(tid, p, m, b, False);
      } else if (klo != lo || khi != hi) {   /* straddles it: cut */
         drop_member(p, lo);
         if (b == NULL) {
            add_member(p, klo, khi - klo);
         } else {
            if (SH_(custom_move)(tid, b, klo, khi - klo)) add_member(p, klo, 0);
            else add_member(p, lo, 0);
         }
      }
   }
   VG_(deleteXA)(list);
}

void SH_(pool_move)(ThreadId tid, Addr from, Addr to)
{
   Pool* p = pool_or_warn(tid, from, "VALGRIND_MOVE_MEMPOOL of an address that is not a "
                          "memory pool (ignored)");
   Pool* q = pool_of(to);
   HChar name[512];
   XArray* list;
   Word i;
   if (p == NULL) return;
   if (from == to) return;
   if (q != NULL) {
      name_pool(q, name, sizeof name);
      SH_(misuse)(tid, False, "VALGRIND_MOVE_MEMPOOL onto the handle of %s, which was "
                  "not destroyed (ignored)", name);
      return;
   }
   /* The blocks carry the handle: rename them (members list them). */
   list = member_list(p);
   if (!p->metapool) {
      for (i = 0; i < VG_(sizeXA)(list); i++) {
         Block* b = SH_(pool_block_exact)(((Member*)VG_(indexXA)(list, i))->start);
         tl_assert(b != NULL && SH_(block_pool)(b) == from);
         SH_(bx)(b)->pool = to;
      }
   }
   VG_(deleteXA)(list);
   VG_(OSetGen_Remove)(pools, &from);
   p->handle = to;
   VG_(OSetGen_Insert)(pools, p);
}

void SH_(pool_change)(ThreadId tid, Addr handle, Addr a, Addr to, SizeT n)
{
   Pool* p = pool_of(handle);
   Member* m;
   Block* b;
   if (p == NULL || !find_member(p, a, &m, &b)) {
      refuse_elsewhere(tid, p, handle, a, "VALGRIND_MEMPOOL_CHANGE");
      return;
   }
   if (b == NULL) {                     /* a metapool chunk */
      drop_member(p, a);
      add_member(p, to, n);
      return;
   }
   /* A move, or a resize in place: re-inserting checks for overlaps. */
   if (SH_(custom_move)(tid, b, to, n)) {
      drop_member(p, a);
      add_member(p, to, 0);
   } else {
      SH_(misuse)(tid, False, "VALGRIND_MEMPOOL_CHANGE moves or grows a block onto "
                  "another tracked block (ignored)");
   }
}

Bool SH_(pool_exists)(Addr handle)
{
   return pool_of(handle) != NULL;
}

void SH_(pools_check_at_exit)(void)
{
   XArray* inside = VG_(newXA)(VG_(malloc), "sh.pool.exit", VG_(free), sizeof(Block*));
   Pool* p;
   VG_(OSetGen_ResetIter)(pools);
   while ((p = VG_(OSetGen_Next)(pools)) != NULL) {
      Member* m;
      HChar name[512];
      if (p->metapool) continue;
      VG_(deleteXA)(inside);
      inside = VG_(newXA)(VG_(malloc), "sh.pool.exit", VG_(free), sizeof(Block*));
      VG_(OSetGen_ResetIter)(p->members);
      while ((m = VG_(OSetGen_Next)(p->members)) != NULL) {
         Block* b = SH_(pool_block_exact)(m->start);
         if (b != NULL && b->size > 0)
            SH_(custom_blocks_within)(b->start, b->start + b->size, inside);
      }
      if (VG_(sizeXA)(inside) == 0) continue;
      name_pool(p, name, sizeof name);
      VG_(umsg)("Warning: at exit, %ld VALGRIND_MALLOCLIKE_BLOCK block%s still lie inside "
                "live blocks of %s, which is not a VALGRIND_MEMPOOL_METAPOOL (memcheck "
                "aborts on such overlaps; both are counted as blocks)\n",
                VG_(sizeXA)(inside), VG_(sizeXA)(inside) == 1 ? "" : "s", name);
   }
   VG_(deleteXA)(inside);
}
