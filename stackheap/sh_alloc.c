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

/* Recently freed addresses, to tell a double free from a wild one. */
#define SH_FREED_RING 1024
static Addr freed_ring[SH_FREED_RING];
static UInt freed_next = 0;

static void remember_freed(Addr a)
{
   freed_ring[freed_next++ % SH_FREED_RING] = a;
}

static Bool recently_freed(Addr a)
{
   UInt i;
   for (i = 0; i < SH_FREED_RING; i++)
      if (freed_ring[i] == a && a != 0) return True;
   return False;
}

static void warn_bad_free(ThreadId tid, Addr a, const HChar* what)
{
   SH_(n_bad_frees)++;
   VG_(umsg)("Warning: %s of %s (ignored; nothing was freed)\n", what,
             recently_freed(a) ? "an already freed block (double free)"
                               : "an address that is not the start of a live heap block");
   SH_(pp_current_stack)(tid);
}

static UInt size_bucket(ULong n)
{
   UInt b = 0;
   while (n > 1 && b < SH_SIZE_BUCKETS - 1) { n >>= 1; b++; }
   return b;
}

static void note_live_bytes(Long delta)
{
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
   /* A handler's pseudo-frame gets its function from the first block. */
   if (ts->frames[idx].signal && ts->frames[idx].fn == 0)
      ts->frames[idx].fn = d0_ip;
   b->alloc_idx = idx;
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

static Block* record_block(ThreadId tid, Addr p, SizeT n, Bool custom)
{
   Block* b = SH_(block_new)(custom);
   Addr d0_sp, d0_ip;
   b->start = p;
   b->size = b->max_size = n;
   b->tid = tid;
   b->alloc_time = SH_(instrs);
   b->counted = SH_(collecting);
   b->chain_first = n;
   if (!SH_(blocks_insert)(b)) {
      VG_(umsg)("Warning: a custom allocator block overlaps one already "
                "tracked (ignored)\n");
      SH_(pp_current_stack)(tid);
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

/* An eligible block freed: count it in its home, with the most
   simultaneous activations of the home's function seen (for the stack
   cost of a suggestion).  Counting scans the shadow stack, so it is done
   only when the stack is deeper than the most activations already seen:
   a shallower stack cannot hold more. */
static void note_home(ThreadState* ts, Site* s, Block* b, Int home, Addr free_ip)
{
   Addr fn = ts->frames[home].fn;
   Home* h = SH_(site_home)(s, b->alloc_idx - home, fn);
   h->blocks++;
   /* What put the home out here: a store into this frame (home_idx is
      where stores left it), else the free after the frames in between
      returned. */
   if (h->pin == SH_PIN_NONE && home < b->alloc_idx) {
      if (home == b->home_idx && b->home_store_ip != 0) {
         h->pin = SH_PIN_STORE;
         h->pin_ip = b->home_store_ip;
      } else if (free_ip != 0) {
         h->pin = SH_PIN_FREE;
         h->pin_ip = free_ip;
      }
   }
   if ((UInt)ts->depth > h->max_activations) {
      UInt k = 0;
      Int j;
      for (j = 0; j < ts->depth; j++)
         if (ts->frames[j].fn == fn) k++;
      if (k > h->max_activations) h->max_activations = k;
   }
}

/* Where the block could have lived, judged by frames alone (escapes
   aside): frame, caller, too_large or outlived; *home_out is the home's
   shadow index when there is one. */
static ShClass stack_verdict(ThreadId tid, Block* b, /*OUT*/Int* home_out)
{
   ThreadState* ts;
   Int home;
   *home_out = -1;
   if (b->alloc_idx < 0 || tid != b->tid) return SH_CLASS_OUTLIVED;
   ts = SH_(thread)(tid);
   home = SH_(surviving_ancestor)(ts, b->home_idx, b->alloc_serial);
   if (home < 0 || ts->root_idx < 0 || home < ts->root_idx)
      return SH_CLASS_OUTLIVED;
   *home_out = home;
   if (b->max_size > SH_(clo_max_stack_block)) return SH_CLASS_TOO_LARGE;
   return (home == b->alloc_idx && ts->frames[home].serial == b->alloc_serial)
          ? SH_CLASS_FRAME : SH_CLASS_CALLER;
}

/* The verdict for a block leaving the live set (freed, or at exit), in
   the priority order of the format document. */
ShClass SH_(class_if_never_freed)(const Block* b)
{
   switch (b->escape) {
   case SH_ESC_GLOBAL: return SH_CLASS_GLOBAL;
   case SH_ESC_THREAD: return SH_CLASS_THREAD;
   case SH_ESC_HEAP:   return SH_CLASS_HEAP;
   default:            return SH_CLASS_NEVER_FREED;
   }
}

static ShClass classify(ThreadId tid, Block* b, Bool at_exit, /*OUT*/Int* home_out)
{
   *home_out = -1;
   if (at_exit) return SH_(class_if_never_freed)(b);
   if (b->escape == SH_ESC_GLOBAL) return SH_CLASS_GLOBAL;
   if (b->escape == SH_ESC_THREAD || tid != b->tid) return SH_CLASS_THREAD;
   if (b->escape == SH_ESC_HEAP)   return SH_CLASS_HEAP;
   return stack_verdict(tid, b, home_out);
}

/* A block that escaped through stores at a single code location, and
   would otherwise have been eligible (for remove_escape). */
static void note_sole_escape(ThreadId tid, Site* s, Block* b)
{
   Int home;
   ShClass v;
   if (b->escape == SH_ESC_NONE || b->escape_ip == 0 || b->escape_ip_multi)
      return;
   v = stack_verdict(tid, b, &home);
   if (v != SH_CLASS_FRAME && v != SH_CLASS_CALLER) return;
   if (s->sole_escape_ip == 0) {
      ThreadState* ts = SH_(thread)(tid);
      s->sole_escape_ip = b->escape_ip;
      s->sole_escape_cls = b->escape_ip_cls;
      s->sole_escape_depth = b->alloc_idx - home;
      s->sole_escape_home_fn = ts->frames[home].fn;
   }
   if (s->sole_escape_ip != b->escape_ip) return;
   if (s->sole_escape_blocks == 0) s->sole_escape_dest_ip = b->escape_dest_ip;
   s->sole_escape_blocks++;
   if (b->escape_dest != 0) {
      Block* d = SH_(block_containing)(b->escape_dest);
      if (d != NULL && d->uid == b->escape_dest_uid) s->sole_escape_held++;
   }
   if (b->max_size > s->sole_escape_max_size) s->sole_escape_max_size = b->max_size;
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
   b->growth++;
   s->growth_steps++;
   s->growth_bytes += old_size;
   if (b->growth > s->max_growth_chain) {
      s->max_growth_chain = b->growth;
      s->chain_first_size = b->chain_first;
      s->chain_last_size = new_size;
   }
}

/* Allocate-copy-free growth: the block being freed was just superseded by
   a larger block of the same site (a C++ container growing). */
static void note_copy_growth(Site* s, Block* b)
{
   Block* succ;
   if (s->last_alloc_time <= b->alloc_time || s->last_alloc_size <= b->size)
      return;
   succ = SH_(block_exact)(s->last_alloc_start, b->custom);
   if (succ == NULL || succ->site != s || succ->growth > 0) return;
   succ->growth = b->growth;
   succ->chain_first = b->chain_first;
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

/* A shadow frame that is a call into the allocator itself or into a
   PLT stub (no function name): not the function that freed.  A frame's
   function is the call's target before redirection, so a free called
   through a function pointer (cJSON's hooks) has a frame for libc's own
   free: allocator names count as well. */
static Bool allocator_or_stub(Addr fn)
{
   static const HChar* const names[] = {
      "free", "cfree", "__libc_free", "realloc", "__libc_realloc", "reallocarray",
      "malloc", "__libc_malloc", "calloc", "__libc_calloc", NULL
   };
   const HChar* name;
   Int i;
   if (SH_(is_alloc_frame_ip)(fn)
       || !VG_(get_fnname)(VG_(current_DiEpoch)(), fn, &name))
      return True;
   for (i = 0; names[i] != NULL; i++)
      if (VG_(strcmp)(name, names[i]) == 0) return True;
   return VG_(strncmp)(name, "operator delete", 15) == 0
          || VG_(strncmp)(name, "_ZdlPv", 6) == 0 || VG_(strncmp)(name, "_ZdaPv", 6) == 0;
}

static Addr free_caller(ThreadId tid, const Block* b, /*OUT*/Bool* by_alloc_frame)
{
   Addr ips[SH_FREE_UNWIND_WRAPS], sps[SH_FREE_UNWIND_WRAPS];
   UInt n, k = 0;
   Int idx, top;
   Addr ip;
   ThreadState* ts = SH_(thread)(tid);
   *by_alloc_frame = False;
   n = VG_(get_StackTrace)(tid, ips, SH_(n_alloc_fns)() ? SH_FREE_UNWIND_WRAPS : SH_FREE_UNWIND,
                           sps, NULL, 0);
   while (k < n && SH_(is_alloc_frame_ip)(ips[k])) k++;
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
   while (top > idx && (allocator_or_stub(ts->frames[top].fn)
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

static void retire_block(ThreadId tid, Block* b, Bool at_exit)
{
   Site* s = b->site;
   ShClass cls;
   Int home;
   Addr free_ip = 0;
   if (!b->counted || s == NULL) return;
   /* Returns pop shadow frames lazily: catch up before reading them. */
   if (!at_exit) SH_(unwind_to)(SH_(thread)(tid), VG_(get_SP)(tid));
   cls = classify(tid, b, at_exit, &home);
   s->classes[cls]++;
   s->cls_bytes[cls] += b->max_size;
   SH_(total_classes)[cls]++;
   s->live--;
   if (at_exit) { s->unfreed_at_exit++; return; }

   s->lifetime_sum += SH_(instrs) - b->alloc_time;
   s->freed++;
   {
      Bool by_alloc_frame;
      free_ip = free_caller(tid, b, &by_alloc_frame);
      if (free_ip != 0) note_free_ip(s, free_ip);
      if (cls == SH_CLASS_FRAME && !by_alloc_frame) s->frame_freed_in_callee++;
   }
   if (b->escape != SH_ESC_NONE) s->escaped_freed++;
   note_sole_escape(tid, s, b);
   /* Homes are where eligible blocks could live: a too_large block has a
      surviving frame but is not eligible, so it is no home's block. */
   if (home >= 0 && (cls == SH_CLASS_FRAME || cls == SH_CLASS_CALLER))
      note_home(SH_(thread)(tid), s, b, home, free_ip);
   note_reuse(s, b);
   note_copy_growth(s, b);
}

/*------------------------------------------------------------*/
/*--- malloc-family entry points                           ---*/
/*------------------------------------------------------------*/

static void* new_block(ThreadId tid, SizeT n, SizeT align, Bool zeroed)
{
   void* p = VG_(cli_malloc)(align, n);
   if (p == NULL) return NULL;
   if (zeroed) VG_(memset)(p, 0, n);
   record_block(tid, (Addr)p, n, False);
   return p;
}

static void free_block(ThreadId tid, void* p, const HChar* what)
{
   Block* b;
   if (p == NULL) return;
   b = SH_(block_exact)((Addr)p, False);
   if (b == NULL) { warn_bad_free(tid, (Addr)p, what); return; }
   retire_block(tid, b, False);
   if (b->counted) note_live_bytes(-(Long)b->size);
   SH_(blocks_remove)(b);
   remember_freed((Addr)p);
   VG_(cli_free)(p);
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
   if (!b->counted || s == NULL) { b->size = new_n; return; }
   s->reallocs++;
   b->n_reallocs++;
   note_live_bytes((Long)new_n - (Long)b->size);
   if (new_n > b->max_size) {
      s->bytes += new_n - b->max_size;
      SH_(total_bytes) += new_n - b->max_size;
      b->max_size = new_n;
      if (new_n > s->max_size) s->max_size = new_n;
   }
   if (new_n > b->size)
      note_growth_step(s, b, b->size, new_n);
   if (new_n != s->const_size) s->varied_sizes = True;
   /* min_size covers every size a block had, shrinking included */
   if (new_n < s->min_size) s->min_size = new_n;
   b->size = new_n;
}

void* SH_(realloc)(ThreadId tid, void* p, SizeT n)
{
   Block* b;
   void* q;
   if (p == NULL) return SH_(malloc)(tid, n);
   b = SH_(block_exact)((Addr)p, False);
   if (b == NULL) { warn_bad_free(tid, (Addr)p, "realloc()"); return NULL; }
   if (n == 0) { free_block(tid, p, "realloc()"); return NULL; }
   if (n <= b->size) {
      note_resize(b, n);
      return p;
   }
   q = VG_(cli_malloc)(VG_(clo_alignment), n);
   if (q == NULL) return NULL;
   VG_(memcpy)(q, p, b->size);
   SH_(blocks_detach)(b);
   b->start = (Addr)q;
   note_resize(b, n);
   if (!SH_(blocks_insert)(b)) tl_assert(0);   /* fresh memory never overlaps */
   VG_(cli_free)(p);
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

void SH_(custom_alloc)(ThreadId tid, Addr a, SizeT n, Addr pool)
{
   Block* b = record_block(tid, a, n, True);
   if (b != NULL) b->pool = pool;
}

static void custom_retire(ThreadId tid, Block* b)
{
   Addr a = b->start;
   retire_block(tid, b, False);
   if (b->counted) note_live_bytes(-(Long)b->size);
   SH_(blocks_remove)(b);
   remember_freed(a);
}

void SH_(custom_free)(ThreadId tid, Addr a)
{
   Block* b = SH_(block_exact)(a, True);
   if (b == NULL) { warn_bad_free(tid, a, "a custom-allocator free"); return; }
   custom_retire(tid, b);
}

/* Destroying a mempool frees every block still in it. */
static Addr   dying_pool;
static XArray* dying;   /* of Block* */

static void collect_pool_block(Block* b)
{
   if (b->custom && b->pool == dying_pool) VG_(addToXA)(dying, &b);
}

void SH_(destroy_pool)(ThreadId tid, Addr pool)
{
   Word i;
   dying_pool = pool;
   dying = VG_(newXA)(VG_(malloc), "sh.pool", VG_(free), sizeof(Block*));
   SH_(blocks_for_each)(collect_pool_block);
   for (i = 0; i < VG_(sizeXA)(dying); i++)
      custom_retire(tid, *(Block**)VG_(indexXA)(dying, i));
   VG_(deleteXA)(dying);
   dying = NULL;
}

void SH_(custom_resize)(ThreadId tid, Addr a, SizeT old_n, SizeT new_n)
{
   Block* b = SH_(block_exact)(a, True);
   if (b == NULL) { warn_bad_free(tid, a, "VALGRIND_RESIZEINPLACE_BLOCK"); return; }
   if (new_n > b->size) {
      /* Growing in place must not swallow a neighbour. */
      Block* next = SH_(block_containing)(a + new_n - 1);
      if (next != NULL && next != b && next->custom) {
         VG_(umsg)("Warning: VALGRIND_RESIZEINPLACE_BLOCK grows into another "
                   "block (ignored)\n");
         SH_(pp_current_stack)(tid);
         return;
      }
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

void SH_(finish_live_blocks)(void)
{
   SH_(blocks_for_each)(retire_at_exit);
}
