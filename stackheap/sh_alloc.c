/*--------------------------------------------------------------------*/
/*--- stackheap: allocation events and the verdict.     sh_alloc.c ---*/
/*--------------------------------------------------------------------*/

/* Every allocator entry point the core hands a tool, plus the custom
   allocator client requests, ends up in record_block() and
   retire_block().  retire_block() gives each block its class. */

#include "pub_tool_debuginfo.h"
#include "pub_tool_machine.h"
#include "pub_tool_replacemalloc.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"

ULong SH_(total_blocks) = 0, SH_(total_bytes) = 0;
ULong SH_(live_bytes) = 0, SH_(peak_live_bytes) = 0;
ULong SH_(total_classes)[SH_N_CLASSES];
ULong SH_(n_bad_frees) = 0;

/* Recently freed addresses, and how each went, to tell a double free or
   a free of a pointer that realloc moved from a wild one.  Bounded: an
   address older than the last SH_FREED_RING frees is just "not live". */
#define SH_FREED_RING 1024
typedef enum { SH_GONE_FREED = 1, SH_GONE_MOVED } ShGone;
static struct { Addr a; UChar how; } freed_ring[SH_FREED_RING];
static UInt freed_next = 0;

static void remember_gone(Addr a, ShGone how)
{
   UInt i = freed_next++ % SH_FREED_RING;
   freed_ring[i].a = a;
   freed_ring[i].how = how;
}

/* How a was last seen going, newest first (an address is reused). */
static ShGone how_gone(Addr a)
{
   UInt k;
   if (a == 0) return 0;
   for (k = 1; k <= SH_FREED_RING && k <= freed_next; k++) {
      UInt i = (freed_next - k) % SH_FREED_RING;
      if (freed_ring[i].a == a) return freed_ring[i].how;
   }
   return 0;
}

void SH_(warn_bad_free)(ThreadId tid, Addr a, const HChar* what)
{
   switch (how_gone(a)) {
   case SH_GONE_MOVED:
      SH_(misuse)(tid, True, "%s of a block that realloc() had already moved elsewhere "
                  "(it was freed then; ignored, nothing was freed)", what);
      break;
   case SH_GONE_FREED:
      SH_(misuse)(tid, True, "%s of an already freed block (double free; ignored, "
                  "nothing was freed)", what);
      break;
   default:
      SH_(misuse)(tid, True, "%s of an address that is not the start of a live heap "
                  "block (ignored; nothing was freed)", what);
      break;
   }
}

static UInt size_bucket(ULong n)
{
   UInt b = 0;
   while (n > 1 && b < SH_SIZE_BUCKETS - 1) { n >>= 1; b++; }
   return b;
}

static void note_live_bytes(Long delta)
{
   tl_assert(delta >= 0 || SH_(live_bytes) >= (ULong)-delta);
   SH_(live_bytes) += delta;
   if (SH_(live_bytes) > SH_(peak_live_bytes)) SH_(peak_live_bytes) = SH_(live_bytes);
}

/* The allocating frame: the innermost shadow frame enclosing the depth-0
   function's SP.  Blocks allocated off the thread's own stack (signal
   alternate stack aside) or with no frame at all are "untracked" and will
   never be called eligible. */
static void find_alloc_frame(ThreadId tid, Block* b, Addr d0_sp, Addr d0_ip)
{
   ThreadState* ts = SH_(thread)(tid);
   Int idx;
   ShSeg seg;
   b->alloc_idx = -1;
   SH_(unwind_to)(ts, VG_(get_SP)(tid));
   if (d0_sp == 0) return;
   seg = SH_(seg_of)(ts, d0_sp);
   if (seg == SH_SEG_OTHER) { SH_(n_off_stack_blocks)++; return; }
   idx = SH_(frame_owning)(ts, d0_sp);
   if (idx < 0) return;
   tl_assert(idx < ts->depth);
   /* A handler's pseudo-frame gets its function from the first block. */
   if (ts->frames[idx].signal && ts->frames[idx].fn == 0)
      ts->frames[idx].fn = d0_ip;
   b->alloc_idx = idx;
   tl_assert(ts->frames[idx].serial >> SH_SERIAL_BITS == 0);   /* Block's field */
   b->alloc_serial = ts->frames[idx].serial;
   b->home_idx = idx;
}

static void site_count_alloc(Site* s, Block* b)
{
   SizeT n = b->size;
   if (s->blocks == 0) s->const_size = n;
   else if (n != s->const_size) s->varied_sizes = True;
   s->blocks++;
   s->bytes += n;
   if (n < s->min_size) s->min_size = n;
   if (n > s->max_size) s->max_size = n;
   s->size_hist[size_bucket(n)]++;
   s->size_hist_bytes[size_bucket(n)] += n;
   s->live++;
   if (s->live > s->max_live) s->max_live = s->live;
   SH_(total_blocks)++;
   SH_(total_bytes) += n;
   if (SH_(cur_phase) >= 0) {
      Phase* ph = SH_(phase_at)(SH_(cur_phase));
      ph->blocks++;
      ph->bytes += n;
   }
   note_live_bytes(n);
}

static Block* record_block(ThreadId tid, Addr p, SizeT n, Bool custom, Addr pool)
{
   Block* b = SH_(block_new)(custom);
   Addr d0_sp, d0_ip;
   b->start = p;
   b->size = n;
   if (pool != 0) SH_(bx_make)(b)->pool = pool;
   /* Bounds of Block's narrow fields. */
   tl_assert(tid < VG_N_THREADS && tid < (1 << 16));
   tl_assert(SH_(instrs) >> SH_TIME_BITS == 0);
   b->tid = tid;
   b->alloc_time = SH_(instrs);
   b->counted = SH_(collecting);
   if (!SH_(blocks_insert)(b)) {
      SH_(misuse)(tid, False, "a %s overlaps one already tracked (ignored)",
                  pool ? "memory pool block" : "VALGRIND_MALLOCLIKE_BLOCK block");
      SH_(block_discard)(b);
      return NULL;
   }
   if (!b->counted) return b;
   b->site = SH_(site_for)(tid, &d0_sp, &d0_ip);
   find_alloc_frame(tid, b, d0_sp, d0_ip);
   site_count_alloc(b->site, b);
   {
      Site* s = b->site;
      s->last_alloc_time = b->alloc_time;
      s->last_alloc_start = p;
      s->last_alloc_size = n;
   }
   return b;
}

/* The free being handled (its innermost non-allocator frame's code
   address) while retire_block() gives a verdict at once; 0 otherwise (a
   verdict that waited on holders): the home pin by free needs it. */
static Addr cur_free_ip = 0;
static const Block* cur_free_block = NULL;   /* the block that free is of */

/* An eligible block judged: count it in its home, with the most
   simultaneous activations of the home's function seen (for the stack
   cost of a suggestion).  Counting scans the shadow stack, so it is done
   only when the stack is deeper than the most activations already seen
   (a shallower stack cannot hold more), and only while the home frame is
   still active (a verdict that waited on holders may come later). */
static void note_home(Site* s, Block* b, const ShHome* home)
{
   ThreadState* ts = SH_(thread)(b->tid);
   Home* h;
   tl_assert(home->idx >= 0 && home->idx <= b->alloc_idx);
   h = SH_(site_home)(s, b->alloc_idx - home->idx, home->fn);
   h->blocks++;
   /* What put the home out here: a store into this frame (home_idx is
      where stores left it), else the free after the frames in between
      returned (known when the verdict is given at the free itself). */
   if (h->pin == SH_PIN_NONE && home->idx < b->alloc_idx) {
      if (home->idx == b->home_idx && SH_(block_home_store_ip)(b) != 0) {
         h->pin = SH_PIN_STORE;
         h->pin_ip = SH_(block_home_store_ip)(b);
      } else if (cur_free_ip != 0 && b == cur_free_block) {
         h->pin = SH_PIN_FREE;
         h->pin_ip = cur_free_ip;
      }
   }
   if ((UInt)ts->depth > h->max_activations && home->idx < ts->depth
       && ts->frames[home->idx].serial == home->serial) {
      UInt k = 0;
      Int j;
      for (j = 0; j < ts->depth; j++)
         if (ts->frames[j].fn == home->fn) k++;
      if (k > h->max_activations) h->max_activations = k;
   }
}

Bool SH_(too_large)(const Block* b)
{
   return SH_(block_max_size)(b) > SH_(clo_max_stack_block);
}

/* Where the block could have lived, judged by frames alone (escapes
   aside): frame, caller, too_large or outlived; *home_out is the home
   when there is one. */
static ShClass stack_verdict(ThreadId tid, Block* b, /*OUT*/ShHome* home_out)
{
   ThreadState* ts;
   Int home;
   home_out->idx = -1;
   if (b->alloc_idx < 0 || tid != b->tid) return SH_CLASS_OUTLIVED;
   ts = SH_(thread)(tid);
   home = SH_(surviving_ancestor)(ts, b->home_idx, b->alloc_serial);
   if (home < 0 || ts->root_idx < 0 || home < ts->root_idx)
      return SH_CLASS_OUTLIVED;
   /* A home is an ancestor of (or is) the allocating frame. */
   tl_assert(home <= b->home_idx && b->home_idx <= b->alloc_idx);
   home_out->idx = home;
   home_out->serial = ts->frames[home].serial;
   home_out->fn = ts->frames[home].fn;
   if (SH_(too_large)(b)) return SH_CLASS_TOO_LARGE;
   return (home == b->alloc_idx && ts->frames[home].serial == b->alloc_serial)
          ? SH_CLASS_FRAME : SH_CLASS_CALLER;
}

/* The verdict for a block still live when the program ends (or at a
   dump), in the priority order of the format document. */
ShClass SH_(class_if_never_freed)(const Block* b)
{
   switch (b->escape) {
   case SH_ESC_GLOBAL: return SH_CLASS_GLOBAL;
   case SH_ESC_THREAD: return SH_CLASS_THREAD;
   case SH_ESC_HEAP:   return SH_CLASS_HEAP;
   default:
      return SH_(held_by_non_stack)(b) ? SH_CLASS_HEAP : SH_CLASS_NEVER_FREED;
   }
}

/* A freed block's own verdict: its escapes and frames, holders aside. */
static void own_verdict(ThreadId tid, Block* b, /*OUT*/ShOwn* own)
{
   ShHome home;
   own->stack_cls = stack_verdict(tid, b, &home);
   own->home = home;
   if (b->escape == SH_ESC_GLOBAL) own->cls = SH_CLASS_GLOBAL;
   else if (b->escape == SH_ESC_THREAD || tid != b->tid) own->cls = SH_CLASS_THREAD;
   else if (b->escape == SH_ESC_HEAP) own->cls = SH_CLASS_HEAP;
   else own->cls = own->stack_cls;
}

/* A block that escaped through stores at a single code location, and
   would otherwise have been eligible (for remove_escape).  ip/multi/cls:
   the block's escaping store locations, holders included. */
static void note_sole_escape(Site* s, Block* b, const ShOwn* own,
                             Addr ip, Bool multi, UChar ip_cls,
                             const Site* dest_site, Bool held)
{
   if (ip == 0 || multi) return;
   if (own->stack_cls != SH_CLASS_FRAME && own->stack_cls != SH_CLASS_CALLER) return;
   if (s->sole_escape_ip == 0) {
      s->sole_escape_ip = ip;
      s->sole_escape_cls = ip_cls;
      s->sole_escape_depth = b->alloc_idx - own->home.idx;
      s->sole_escape_home_fn = own->home.fn;
   }
   if (s->sole_escape_ip != ip) return;
   if (s->sole_escape_blocks == 0 && dest_site != NULL)
      s->sole_escape_dest_ip = dest_site->ips[0];
   s->sole_escape_blocks++;
   if (held) s->sole_escape_held++;
   if (SH_(block_max_size)(b) > s->sole_escape_max_size)
      s->sole_escape_max_size = SH_(block_max_size)(b);
}

void SH_(block_verdict)(Block* b, const ShOwn* own, ShClass cls,
                        const ShHome* home, const ShVia* via)
{
   Site* s = b->site;
   const StorePoint* ept = SH_(block_escape_pt)(b);
   Addr ip = ept->ip;
   Bool multi = b->escape_ip_multi;
   UChar ip_cls = ept->cls;
   s->classes[cls]++;
   s->cls_bytes[cls] += SH_(block_max_size)(b);
   SH_(total_classes)[cls]++;
   if (cls == SH_CLASS_GLOBAL || cls == SH_CLASS_THREAD || cls == SH_CLASS_HEAP)
      s->escaped_freed++;
   if (via != NULL) {
      /* Heap through a holder: the stores into holders escaped it too. */
      if (ip == 0) { ip = via->ip; ip_cls = SH_CLASS_HEAP; multi = via->ip_multi; }
      else if (via->ip_multi || via->ip != ip) multi = True;
      SH_(note_heap_first_escape)(s, via->ip, via->holder_site, &via->why);
   }
   if (cls != SH_CLASS_FRAME && cls != SH_CLASS_CALLER) {
      /* Its holder outlived it (a structure holding it for its life) when
         the verdict waited on the holder (the block was freed first), or,
         for a holder known at the store, when a block of the holder's site
         was still live at this free (an approximation: the holder's
         address is not kept). */
      const Site* dest_site = via != NULL ? via->holder_site : ept->dest_site;
      Bool held = via != NULL ? b != cur_free_block
                              : (dest_site != NULL && dest_site->live > 0);
      note_sole_escape(s, b, own, ip, multi, ip_cls, dest_site, held);
   }
   /* Homes are where eligible blocks could live: a too_large block has a
      surviving frame but is not eligible, so it is no home's block. */
   if ((cls == SH_CLASS_FRAME || cls == SH_CLASS_CALLER) && home->idx >= 0)
      note_home(s, b, home);
}

/* Same activation freeing and allocating again, without overlap. */
static void note_reuse(Site* s, Block* b)
{
   Bool reuse = b->escape == SH_ESC_NONE && b->alloc_idx >= 0
                && s->last_free_tid == b->tid
                && s->last_free_serial == b->alloc_serial
                && b->alloc_time > s->last_free_time;
   if (reuse) {
      s->reuse_blocks++;
      s->cur_reuse_run++;
      if (s->cur_reuse_run > s->max_reuse_run) s->max_reuse_run = s->cur_reuse_run;
   } else {
      s->cur_reuse_run = 0;
   }
   s->last_free_tid = b->tid;
   s->last_free_serial = b->alloc_idx >= 0 ? b->alloc_serial : 0;
   s->last_free_time = SH_(instrs);
}

/* One growth step of a logical buffer (b, now new_size bytes, was
   old_size): the longest chain of the site is its reserve_capacity story. */
static void note_growth_step(Site* s, Block* b, SizeT old_size, SizeT new_size)
{
   BlockExtra* x = SH_(bx_make)(b);
   x->growth++;
   s->growth_steps++;
   s->growth_bytes += old_size;
   if (x->growth > s->max_growth_chain) {
      s->max_growth_chain = x->growth;
      s->chain_first_size = x->chain_first;
      s->chain_last_size = new_size;
   }
}

/* Allocate-copy-free growth: the block being freed was just superseded by
   a larger block of the same site (a C++ container growing). */
static void note_copy_growth(Site* s, Block* b)
{
   Block* succ;
   const BlockExtra* bx;
   BlockExtra* sx;
   if (s->last_alloc_time <= b->alloc_time || s->last_alloc_size <= b->size)
      return;
   succ = SH_(block_exact)(s->last_alloc_start, b->custom);
   if (succ == NULL || succ->site != s) return;
   sx = SH_(bx)(succ);
   if (sx != NULL && sx->growth > 0) return;
   bx = SH_(bx)(b);
   sx = SH_(bx_make)(succ);
   sx->growth = bx ? bx->growth : 0;
   sx->chain_first = bx ? bx->chain_first : b->size;
   s->growth_copy_steps++;
   note_growth_step(s, succ, b->size, succ->size);
}

/* Where a block is being freed: the innermost non-allocator frame of the
   free's stack (its code address, 0 when unknown), and whether that frame
   is the block's allocating activation.  A short unwind: the preload's
   free and the caller are the first two frames, --alloc-fn wrappers
   (rare) need more.  Costs one partial unwind per free. */
#define SH_FREE_UNWIND       3
#define SH_FREE_UNWIND_WRAPS 16

static Addr free_caller(ThreadId tid, const Block* b, /*OUT*/Bool* by_alloc_frame)
{
   Addr ips[SH_FREE_UNWIND_WRAPS], sps[SH_FREE_UNWIND_WRAPS];
   UInt n, k;
   Int idx, top;
   Addr ip;
   ThreadState* ts = SH_(thread)(tid);
   *by_alloc_frame = False;
   /* Two frames first (one CFI step): only the first non-allocator frame
      is used, and the first frames of an unwind do not depend on how
      many are asked for (without --merge-recursive-frames). */
   n = SH_(unwinds_merge_recursion)() ? 0 : SH_(unwind)(tid, ips, 2, sps);
   k = SH_(count_alloc_frames)(ips, n);
   if (k == n && (n == 2 || n == 0)) {
      n = SH_(unwind)(tid, ips, SH_(n_alloc_fns)() ? SH_FREE_UNWIND_WRAPS : SH_FREE_UNWIND, sps);
      k = SH_(count_alloc_frames)(ips, n);
   }
   if (k == n) return 0;
   idx = SH_(frame_owning)(ts, sps[k]);
   if (idx < 0) return ips[k];
   /* The unwinder cannot see a free reached by a tail call (jmp free):
      its first frame is then the caller of the function that made it.
      The shadow stack still has that function, above idx: name it by its
      entry.  (A chain of tail calls is attributed to the first.)  Frames
      pushed below the return address the unwinder found are calls that
      have returned but are not popped yet (frames pop lazily): skipped. */
   top = ts->depth - 1;
   while (top > idx && (SH_(is_allocator_or_stub)(ts->frames[top].fn)
                        || ts->frames[top].entry_sp < sps[k] - sizeof(Addr)))
      top--;
   ip = top == idx ? ips[k] : ts->frames[top].fn;
   *by_alloc_frame = b->alloc_idx == top && ts->frames[top].serial == b->alloc_serial;
   return ip;
}

static void note_free_ip(Site* s, Addr ip)
{
   Word i, n;
   if (s->free_ips == NULL)
      s->free_ips = VG_(newXA)(VG_(malloc), "sh.site.frees", VG_(free), sizeof(FreeIp));
   n = VG_(sizeXA)(s->free_ips);
   for (i = 0; i < n; i++) {
      FreeIp* f = VG_(indexXA)(s->free_ips, i);
      if (f->ip == ip) { f->blocks++; return; }
   }
   if (n >= SH_MAX_FREE_IPS) { s->free_ips_dropped++; return; }
   {
      FreeIp f;
      f.ip = ip;
      f.blocks = 1;
      VG_(addToXA)(s->free_ips, &f);
   }
}

/* A block leaves the live set.  Freed: the statistics of the free now,
   the verdict now or, for a block held by blocks not yet judged, later
   (sh_holders.c).  Returns True when the block was parked for that: the
   caller detaches it instead of freeing it. */
static Bool retire_block(ThreadId tid, Block* b, Bool at_exit)
{
   Site* s = b->site;
   ShOwn own;
   if (!b->counted || s == NULL) return False;
   tl_assert(s->live > 0);
   s->live--;
   if (at_exit) {
      ShClass cls = SH_(class_if_never_freed)(b);
      s->classes[cls]++;
      s->cls_bytes[cls] += SH_(block_max_size)(b);
      SH_(total_classes)[cls]++;
      s->unfreed_at_exit++;
      if (cls == SH_CLASS_HEAP && b->escape == SH_ESC_NONE)
         SH_(holders_note_exit_escape)(b);
      return False;
   }
   /* Returns pop shadow frames lazily: catch up before reading them. */
   SH_(unwind_to)(SH_(thread)(tid), VG_(get_SP)(tid));
   s->lifetime_sum += SH_(instrs) - b->alloc_time;
   s->freed++;
   {
      /* where it is freed (free_sites), and whether by its own function */
      Bool by_alloc_frame;
      cur_free_ip = free_caller(tid, b, &by_alloc_frame);
      cur_free_block = b;
      if (cur_free_ip != 0) note_free_ip(s, cur_free_ip);
      own_verdict(tid, b, &own);
      if (own.cls == SH_CLASS_FRAME && !by_alloc_frame) s->frame_freed_in_callee++;
   }
   note_reuse(s, b);
   note_copy_growth(s, b);
   if (SH_(block_hn)(b) != NULL) {
      Bool parked = SH_(holders_freed)(b, &own);
      cur_free_ip = 0;
      cur_free_block = NULL;
      return parked;
   }
   SH_(block_verdict)(b, &own, own.cls, &own.home, NULL);
   cur_free_ip = 0;
   cur_free_block = NULL;
   return False;
}

/* The block's memory after retire_block(). */
static void drop_block(Block* b, Bool parked)
{
   if (parked) SH_(blocks_detach)(b);
   else SH_(blocks_remove)(b);
}

/*------------------------------------------------------------*/
/*--- malloc-family entry points                           ---*/
/*------------------------------------------------------------*/

/* The largest alignment the core's arena accepts (it panics above). */
#define SH_MAX_ALIGN (16 * 1024 * 1024)

/* Requests no allocator can satisfy get NULL (the preload sets ENOMEM),
   as glibc answers them, instead of reaching the core's arena, which
   asserts on sizes near SIZE_MAX and panics on alignments it cannot
   give.  Alignments are rounded as the preload's memalign does. */
static Bool impossible_request(SizeT n, SizeT* align)
{
   SizeT a = *align;
   if ((SSizeT)n < 0) return True;
   /* 0 only comes from the preload rounding an alignment above 2^63 up
      to the next power of two. */
   if (a == 0) return True;
   if (a < 2 * sizeof(void*)) a = 2 * sizeof(void*);   /* the arena's minimum */
   if (a > SH_MAX_ALIGN) return True;
   while ((a & (a - 1)) != 0) a++;
   *align = a;
   return False;
}

static void* new_block(ThreadId tid, SizeT n, SizeT align, Bool zeroed)
{
   void* p;
   UInt cls;
   Block* b;
   if (impossible_request(n, &align)) return NULL;
   p = SH_(heap_get)(n, align, &cls);
   if (p == NULL) return NULL;
   if (zeroed) VG_(memset)(p, 0, n);   /* a reused chunk holds old bytes */
   b = record_block(tid, (Addr)p, n, False, 0);
   tl_assert(b != NULL);   /* fresh memory overlaps no live malloc block */
   b->heap_cls = cls;
   return p;
}

static void free_block(ThreadId tid, void* p, const HChar* what)
{
   Block* b;
   Bool parked;
   SizeT size;
   UInt cls;
   if (p == NULL) return;
   b = SH_(block_exact)((Addr)p, False);
   if (b == NULL) {
      if (SH_(block_exact)((Addr)p, True) != NULL || SH_(pool_block_exact)((Addr)p) != NULL)
         SH_(misuse)(tid, True, "%s of a custom allocator's block (VALGRIND_MALLOCLIKE_BLOCK "
                     "or a memory pool's; ignored: free it with its allocator's request)",
                     what);
      else
         SH_(warn_bad_free)(tid, (Addr)p, what);
      return;
   }
   tl_assert(b->start == (Addr)p && !b->custom);
   parked = retire_block(tid, b, False);
   if (b->counted) note_live_bytes(-(Long)b->size);
   size = b->size;
   cls = b->heap_cls;
   drop_block(b, parked);
   remember_gone((Addr)p, SH_GONE_FREED);
   SH_(heap_put)(p, size, cls);
}

void* SH_(malloc)(ThreadId tid, SizeT n)
{ return new_block(tid, n, VG_(clo_alignment), False); }
void* SH_(builtin_new)(ThreadId tid, SizeT n)
{ return new_block(tid, n, VG_(clo_alignment), False); }
void* SH_(builtin_new_aligned)(ThreadId tid, SizeT n, SizeT align)
{ return new_block(tid, n, align, False); }
void* SH_(builtin_vec_new)(ThreadId tid, SizeT n)
{ return new_block(tid, n, VG_(clo_alignment), False); }
void* SH_(builtin_vec_new_aligned)(ThreadId tid, SizeT n, SizeT align)
{ return new_block(tid, n, align, False); }
void* SH_(memalign)(ThreadId tid, SizeT align, SizeT n)
{ return new_block(tid, n, align, False); }

void* SH_(calloc)(ThreadId tid, SizeT m, SizeT n)
{
   /* The preload already returns NULL on overflow; be safe anyway. */
   if (n != 0 && m > ((SizeT)-1) / n) return NULL;
   tl_assert(n == 0 || (m * n) / n == m);
   return new_block(tid, m * n, VG_(clo_alignment), True);
}

void SH_(free)(ThreadId tid, void* p)            { free_block(tid, p, "free()"); }
void SH_(builtin_delete)(ThreadId tid, void* p)  { free_block(tid, p, "operator delete"); }
void SH_(builtin_delete_aligned)(ThreadId tid, void* p, SizeT align)
{ free_block(tid, p, "operator delete"); }
void SH_(builtin_vec_delete)(ThreadId tid, void* p) { free_block(tid, p, "operator delete[]"); }
void SH_(builtin_vec_delete_aligned)(ThreadId tid, void* p, SizeT align)
{ free_block(tid, p, "operator delete[]"); }

/* A resize keeps the block: same site, same escape history.  Shrinking
   stays in place; growing moves (as DHAT does).  bytes counts the
   largest size reached. */
static void note_resize(Block* b, SizeT new_n)
{
   Site* s = b->site;
   BlockExtra* x;
   if (!b->counted || s == NULL) { SH_(block_set_size)(b, new_n); return; }
   x = SH_(bx_make)(b);   /* before the size changes: it keeps the largest */
   s->reallocs++;
   note_live_bytes((Long)new_n - (Long)b->size);
   if (new_n > x->max_size) {
      s->bytes += new_n - x->max_size;
      SH_(total_bytes) += new_n - x->max_size;
      x->max_size = new_n;
      if (new_n > s->max_size) s->max_size = new_n;
   }
   if (new_n > b->size)
      note_growth_step(s, b, b->size, new_n);
   if (new_n != s->const_size) s->varied_sizes = True;
   /* min_size covers every size a block had, shrinking included */
   if (new_n < s->min_size) s->min_size = new_n;
   SH_(block_set_size)(b, new_n);
}

void* SH_(realloc)(ThreadId tid, void* p, SizeT n)
{
   Block* b;
   void* q;
   SizeT old_size;
   UInt cls, old_cls;
   if (p == NULL) return SH_(malloc)(tid, n);
   b = SH_(block_exact)((Addr)p, False);
   if (b == NULL) { SH_(warn_bad_free)(tid, (Addr)p, "realloc()"); return NULL; }
   if (n == 0) { free_block(tid, p, "realloc()"); return NULL; }
   if (n <= b->size) {
      note_resize(b, n);
      return p;
   }
   /* Like glibc: the old block stays valid when growing fails. */
   if ((SSizeT)n < 0) return NULL;
   q = SH_(heap_get)(n, VG_(clo_alignment), &cls);
   if (q == NULL) return NULL;
   VG_(memcpy)(q, p, b->size);
   old_size = b->size;
   old_cls = b->heap_cls;
   SH_(blocks_detach)(b);
   b->start = (Addr)q;
   b->heap_cls = cls;
   note_resize(b, n);
   if (!SH_(blocks_insert)(b)) tl_assert(0);   /* fresh memory never overlaps */
   remember_gone((Addr)p, SH_GONE_MOVED);
   SH_(heap_put)(p, old_size, old_cls);
   return q;
}

SizeT SH_(malloc_usable_size)(ThreadId tid, void* p)
{
   Block* b = SH_(block_exact)((Addr)p, False);
   return b ? b->size : 0;
}

/*------------------------------------------------------------*/
/*--- Custom allocators (client requests)                  ---*/
/*------------------------------------------------------------*/

/* A block that would wrap around the address space cannot be tracked. */
static Bool wraps(ThreadId tid, Addr a, SizeT n, const HChar* what)
{
   if (n == 0 || a + n - 1 >= a) return False;
   VG_(umsg)("Warning: %s of %lu bytes at %#lx wraps around the address space "
             "(ignored)\n", what, n, a);
   SH_(pp_current_stack)(tid);
   return True;
}

Block* SH_(custom_alloc)(ThreadId tid, Addr a, SizeT n, Addr pool)
{
   Block* b;
   if (wraps(tid, a, n, "a custom-allocator block")) return NULL;
   b = record_block(tid, a, n, True, pool);
   if (b != NULL && pool == 0) SH_(pool_note_malloclike)(b);
   return b;
}

void SH_(custom_retire)(ThreadId tid, Block* b)
{
   Addr a = b->start;
   Bool parked = retire_block(tid, b, False);
   if (b->counted) note_live_bytes(-(Long)b->size);
   drop_block(b, parked);
   remember_gone(a, SH_GONE_FREED);
}

void SH_(custom_free)(ThreadId tid, Addr a)
{
   Block* b = SH_(block_exact)(a, True);
   if (b != NULL) { SH_(custom_retire)(tid, b); return; }
   if (SH_(block_exact)(a, False) != NULL)
      SH_(misuse)(tid, True, "VALGRIND_FREELIKE_BLOCK of a block allocated by malloc() "
                  "(ignored: free it with free())");
   else if (SH_(pool_block_exact)(a) != NULL)
      SH_(misuse)(tid, True, "VALGRIND_FREELIKE_BLOCK of a memory pool's block "
                  "(ignored: free it with VALGRIND_MEMPOOL_FREE)");
   else
      SH_(warn_bad_free)(tid, a, "VALGRIND_FREELIKE_BLOCK");
}

Bool SH_(custom_move)(ThreadId tid, Block* b, Addr to, SizeT n)
{
   Addr from = b->start;
   SizeT old_n = b->size;
   SH_(blocks_detach)(b);
   b->start = to;
   b->size = n;
   if (!SH_(blocks_insert)(b)) {
      b->start = from;
      b->size = old_n;
      if (!SH_(blocks_insert)(b)) tl_assert(0);   /* its own old place */
      return False;
   }
   b->size = old_n;
   note_resize(b, n);
   return True;
}

void SH_(custom_resize)(ThreadId tid, Addr a, SizeT old_n, SizeT new_n)
{
   Block* b = SH_(block_exact)(a, True);
   if (b == NULL) { SH_(warn_bad_free)(tid, a, "VALGRIND_RESIZEINPLACE_BLOCK"); return; }
   if (wraps(tid, a, new_n, "VALGRIND_RESIZEINPLACE_BLOCK")) return;
   if (new_n > b->size) {
      /* Growing in place must not swallow a neighbour: re-inserting checks. */
      if (!SH_(custom_move)(tid, b, a, new_n))
         SH_(misuse)(tid, False, "VALGRIND_RESIZEINPLACE_BLOCK grows into another "
                     "block (ignored)");
      return;
   }
   note_resize(b, new_n);
}

/*------------------------------------------------------------*/
/*--- At exit                                              ---*/
/*------------------------------------------------------------*/

static void retire_at_exit(Block* b)
{
   retire_block(b->tid, b, True);
}

/* After this the blocks still in the set are retired (counted in a class). */
static Bool finished = False;

void SH_(finish_live_blocks)(void)
{
   tl_assert(!finished);
   finished = True;
   SH_(holders_at_exit)();
   SH_(blocks_for_each)(retire_at_exit);
}

/*------------------------------------------------------------*/
/*--- Sanity                                               ---*/
/*------------------------------------------------------------*/

static ULong counted_live;
static ULong live_per_class[SH_HEAP_MAX_CLASS + 1];
static ULong bad_chunks;
static void count_counted(Block* b)
{
   if (b->counted && b->site != NULL) counted_live++;
   if (b->custom) return;
   live_per_class[b->heap_cls]++;
   if (!SH_(heap_chunk_sane)(b->start, b->size, b->heap_cls)) bad_chunks++;
}

Bool SH_(alloc_sane)(Bool full)
{
   UInt i;
   SH_SANE(SH_(live_bytes) <= SH_(peak_live_bytes), "live bytes above the peak\n");
   if (!full) return SH_(heap_sane)(False, NULL);
   /* The counted live blocks are the sites' live blocks; the memory of
      each malloc'd one is a chunk in use (sh_heap.c). */
   if (finished) return SH_(heap_sane)(True, NULL);
   counted_live = 0;
   bad_chunks = 0;
   VG_(memset)(live_per_class, 0, sizeof(live_per_class));
   SH_(blocks_for_each)(count_counted);
   SH_SANE(bad_chunks == 0, "%llu live blocks lie outside their size-class chunks\n",
           bad_chunks);
   {
      ULong site_live = 0;
      for (i = 0; i < SH_(n_sites)(); i++) site_live += SH_(site_at)(i)->live;
      SH_SANE(site_live == counted_live, "sites count %llu live blocks, the set holds %llu\n",
              site_live, counted_live);
   }
   return SH_(heap_sane)(True, live_per_class);
}
