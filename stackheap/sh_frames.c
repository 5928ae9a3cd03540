/*--------------------------------------------------------------------*/
/*--- stackheap: shadow call stacks.                  sh_frames.c  ---*/
/*--------------------------------------------------------------------*/

/* Each thread has a shadow stack of Frames, pushed at every call seen in
   the generated code.  Frames are never popped by matching returns:
   every frame whose entry SP lies below the current SP has returned,
   whatever way it left (ret, longjmp, C++ exception, a tail call).  That
   one rule keeps the stack right, and it is applied lazily, when the
   shadow stack is about to be read: at a call, an allocation, a free, and
   a store of a heap pointer into the stack.  Returns cost nothing.  (A
   helper at every return was measured about 8% slower on jq.)

   Stacks other than the thread's own (a signal alternate stack, or a
   stack the program switched to with swapcontext or a coroutine library)
   are told apart by address range: frames on them are popped when the
   thread is back on its own stack, and blocks allocated on them are never
   called stack-eligible (see sh_alloc.c). */

#include "pub_tool_machine.h"
#include "pub_tool_threadstate.h"
#include "libvex_guest_amd64.h"
#include "sh_global.h"

/* Start routines handed to pthread_create, plus main: entering one marks
   the thread's root frame. */
#define SH_MAX_ROOT_FNS 256
static Addr root_fns[SH_MAX_ROOT_FNS];
static UInt n_root_fns = 0;

Bool SH_(is_root_fn)(Addr fn)
{
   UInt i;
   for (i = 0; i < n_root_fns; i++)
      if (root_fns[i] == fn) return True;
   return False;
}

ShSeg SH_(seg_of)(ThreadState* ts, Addr a)
{
   if (a <= ts->stack_top && a >= ts->stack_limit)
      return SH_SEG_NORMAL;
   if (ts->on_altstack && a >= ts->alt_lo && a <= ts->alt_hi)
      return SH_SEG_ALT;
   return SH_SEG_OTHER;
}

/* The innermost frame of the running thread, as the range [top_lo,
   top_lo + top_span) that generated code tests store destinations
   against (it reads it from the thread's filter copy, sh_instrument.c).
   A pointer stored into the innermost frame can never change a
   block's verdict: the frame encloses the block's life only if it is
   already the innermost surviving frame of its allocation stack, and the
   home at free time is at or outside that frame anyway.  The one thing
   such a store can reveal is a block of another thread, so the filter is
   on only while the program has a single thread; it is off (span 0) on
   stacks the tool does not follow. */
Bool SH_(single_threaded) = True;

static inline void top_filter_range(const ThreadState* ts, Addr* lo, Addr* span)
{
   const Frame* f;
   *lo = *span = 0;
   if (!SH_(single_threaded) || ts->depth == 0) return;
   f = &ts->frames[ts->depth - 1];
   if (f->seg == SH_SEG_NORMAL && ts->stack_limit != 0 && f->entry_sp >= ts->stack_limit) {
      *lo = ts->stack_limit;
      *span = f->entry_sp - ts->stack_limit + 1;
   } else if (f->seg == SH_SEG_ALT && f->entry_sp >= ts->alt_lo) {
      *lo = ts->alt_lo;
      *span = f->entry_sp - ts->alt_lo + 1;
   }
}

void SH_(top_filter_range)(const ThreadState* ts, Addr* lo, Addr* span)
{
   top_filter_range(ts, lo, span);
}

/* The whole copy, heap bounds too: when ts starts running (the copy may
   be stale from before another thread ran) and when a signal handler
   returns (the core restored the shadow state saved at its delivery). */
void SH_(rewrite_filter_copy)(ThreadState* ts)
{
   Addr lo, span;
   if (ts != SH_(cur_ts)) return;
   top_filter_range(ts, &lo, &span);
   SH_(filter_copy_set)(lo, span);
}

/* Called after every change of the running thread's innermost frame
   (on_call's common case writes the copy itself).  The copy is written
   directly once on_call has told where it is (on_store catches up with
   returns often enough that the core's accessor cost 2% of sqlite). */
void SH_(refresh_top_filter)(ThreadState* ts)
{
   Addr lo, span;
   if (ts != SH_(cur_ts)) return;
   top_filter_range(ts, &lo, &span);
   if (LIKELY(ts->filter_copy != NULL)) {
      ts->filter_copy->top_lo = lo;
      ts->filter_copy->top_span = span;
   } else {
      SH_(filter_copy_set)(lo, span);
   }
}

static inline void pop_frame(ThreadState* ts)
{
   Frame* f;
   tl_assert(ts->depth > 0);
   f = &ts->frames[--ts->depth];
   if (f->seg != SH_SEG_NORMAL) ts->n_nonnormal--;
   tl_assert(ts->n_nonnormal >= 0);
   /* The alternate stack's pseudo-frame is its bottom: once it is gone
      (even by a longjmp out of the handler) the thread has left it. */
   if (f->seg == SH_SEG_ALT && f->signal) ts->on_altstack = False;
   if (ts->depth == ts->root_idx) ts->root_idx = -1;
}

void SH_(unwind_to)(ThreadState* ts, Addr sp)
{
   ShSeg seg = SH_(seg_of)(ts, sp);
   while (ts->depth > 0) {
      Frame* top = &ts->frames[ts->depth - 1];
      if (top->seg == seg) {
         if (top->entry_sp < sp) { pop_frame(ts); continue; }
         break;
      }
      /* Back on the thread's own stack: whatever ran elsewhere is over. */
      if (seg == SH_SEG_NORMAL) { pop_frame(ts); continue; }
      /* Just moved onto another stack: nothing has returned yet. */
      break;
   }
   SH_(refresh_top_filter)(ts);
}

static void grow(ThreadState* ts)
{
   tl_assert(ts->depth == ts->capacity && ts->capacity > 0);
   ts->capacity *= 2;
   ts->frames = VG_(realloc)("sh.frames", ts->frames, ts->capacity * sizeof(Frame));
}

static inline ThreadState* running_thread(void)
{
   ThreadState* ts = SH_(cur_ts);
   if (LIKELY(ts != NULL)) return ts;
   return SH_(thread)(VG_(get_running_tid)());
}

/* Fill frames[ts->depth] and make it the top (capacity already checked),
   with the statistics; both push paths use it. */
static inline Frame* place_frame(ThreadState* ts, Addr entry_sp, Addr fn, ShSeg seg)
{
   Frame* f = &ts->frames[ts->depth++];
   f->entry_sp = entry_sp;
   f->fn = fn;
   f->serial = ts->next_serial++;
   f->seg = seg;
   f->signal = False;
   ts->frames_pushed++;
   if (UNLIKELY(ts->depth > ts->max_depth)) {
      ts->max_depth = ts->depth;
      ts->max_stack_bytes = (seg == SH_SEG_NORMAL && entry_sp < ts->stack_top)
                            ? ts->stack_top - entry_sp : 0;
   }
   return f;
}

static Frame* push_frame(ThreadState* ts, Addr entry_sp, Addr fn, ShSeg seg)
{
   Frame* f;
   if (UNLIKELY(ts->depth == ts->capacity)) grow(ts);
   f = place_frame(ts, entry_sp, fn, seg);
   if (seg != SH_SEG_NORMAL) ts->n_nonnormal++;
   SH_(refresh_top_filter)(ts);
   return f;
}

/* on_call outside its common case: another stack, frames of another
   stack on this one, a full array, a thread not yet known. */
static __attribute__((noinline)) void on_call_general(Addr sp_after, Addr target)
{
   ThreadState* ts = running_thread();
   /* A frame whose entry SP is this call's has returned (its return
      address slot is being reused): pop entry_sp <= sp_after. */
   SH_(unwind_to)(ts, sp_after + 1);
   push_frame(ts, sp_after, target, SH_(seg_of)(ts, sp_after));
   if (UNLIKELY(ts->root_idx < 0) && SH_(is_root_fn)(target))
      SH_(on_root_entry)(target);
}

/* Until the thread has a root, look for a call into main or into a start
   routine announced by pthread_create. */
static __attribute__((noinline)) void check_root_entry(Addr target)
{
   if (SH_(is_root_fn)(target)) SH_(on_root_entry)(target);
}

/* Called at every call (about 10% of jq's run time when it was one
   function).  The common case, on the thread's own stack with only its
   own frames, is unwind_to + push_frame + refresh_top_filter specialised,
   and calls nothing, so that it needs no saved registers; the rest is in
   on_call_general.  gs is the running thread's guest state: on_call
   writes the frame range into its filter copy, and records where that
   is for refresh_top_filter. */
VG_REGPARM(3) void SH_(on_call)(Addr sp_after, Addr target, UChar* gs)
{
   ThreadState* ts = SH_(cur_ts);
   Int d;
   if (UNLIKELY(ts == NULL || !SH_(on_own_stack_only)(ts, sp_after)
                || ts->depth >= ts->capacity)) {
      on_call_general(sp_after, target);
      return;
   }
   d = ts->depth;
   while (d > 0 && ts->frames[d - 1].entry_sp <= sp_after) d--;
   if (ts->root_idx >= d) ts->root_idx = -1;
   ts->depth = d;
   place_frame(ts, sp_after, target, SH_SEG_NORMAL);
   if (LIKELY(SH_(single_threaded))) {   /* (ts is SH_(cur_ts), gs its guest state) */
      volatile ShFilterCopy* fc = SH_(filter_copy_at)(gs);   /* = SH_(top_filter_range) */
      fc->top_lo = ts->stack_limit;
      fc->top_span = sp_after - ts->stack_limit + 1;
   }
   if (UNLIKELY(ts->filter_copy == NULL)) ts->filter_copy = SH_(filter_copy_at)(gs);
   if (UNLIKELY(ts->root_idx < 0)) check_root_entry(target);
}

/* Generated at the entry of main and of every start routine: the frame
   just pushed for it becomes the thread's root, unless it has one. */
VG_REGPARM(1) void SH_(on_root_entry)(Addr fn)
{
   ThreadState* ts = running_thread();
   if (ts->root_idx >= 0 || ts->depth == 0) return;
   ts->root_idx = ts->depth - 1;
   tl_assert(ts->root_idx < ts->capacity);
}

VG_REGPARM(1) void SH_(on_libc_start_main)(Addr main_fn)
{
   if (main_fn == 0 || SH_(is_root_fn)(main_fn)) return;
   SH_(register_root_fn)(VG_(get_running_tid)(), main_fn, 0);
}

void SH_(register_root_fn)(ThreadId creator, Addr fn, Addr arg)
{
   if (fn == 0 || SH_(is_root_fn)(fn)) return;
   if (n_root_fns < SH_MAX_ROOT_FNS)
      root_fns[n_root_fns++] = fn;
}

Int SH_(frame_owning)(ThreadState* ts, Addr a)
{
   ShSeg seg = SH_(seg_of)(ts, a);
   Int lo, hi, j;
   if (ts->depth == 0) return -1;
   if (ts->n_nonnormal == 0 && seg == SH_SEG_NORMAL) {
      /* entry_sp decreases with the index: find the last one >= a.  The
         addresses asked about (an allocating or freeing function's SP, a
         store's destination) are mostly in the innermost few frames:
         those are tried first, in the order they lie in memory. */
      for (j = ts->depth - 1; j >= 0 && j >= ts->depth - 4; j--)
         if (ts->frames[j].entry_sp >= a) return j;
      if (j < 0 || ts->frames[0].entry_sp < a) return -1;
      lo = 0; hi = j;
      while (lo < hi) {
         Int mid = lo + (hi - lo + 1) / 2;
         if (ts->frames[mid].entry_sp >= a) lo = mid; else hi = mid - 1;
      }
      tl_assert(lo >= 0 && lo < ts->depth && ts->frames[lo].entry_sp >= a);
      return lo;
   }
   for (j = ts->depth - 1; j >= 0; j--)
      if (ts->frames[j].seg == seg && ts->frames[j].entry_sp >= a)
         return j;
   return -1;   /* (the binary search above relies on n_nonnormal == 0) */
}

Int SH_(surviving_ancestor)(ThreadState* ts, Int idx, ULong serial)
{
   Int lo = 0, hi;
   if (idx < 0 || ts->depth == 0) return -1;
   hi = idx < ts->depth - 1 ? idx : ts->depth - 1;
   /* Serials increase with the index: find the last one <= serial. */
   if (ts->frames[0].serial > serial) return -1;
   while (lo < hi) {
      Int mid = lo + (hi - lo + 1) / 2;
      if (ts->frames[mid].serial <= serial) lo = mid; else hi = mid - 1;
   }
   tl_assert(lo <= idx && lo < ts->depth && ts->frames[lo].serial <= serial);
   return lo;
}

/* A handler gets a pseudo-frame: on the normal stack it sits just below
   the interrupted SP; on the alternate stack it marks that stack. */
void SH_(signal_delivered)(ThreadId tid, Int sig, Bool alt_stack)
{
   ThreadState* ts = SH_(thread)(tid);
   Addr sp = VG_(get_SP)(tid);
   Frame* f;
   if (alt_stack) {
      Addr lo = VG_(thread_get_altstack_min)(tid);
      SizeT sz = VG_(thread_get_altstack_size)(tid);
      ts->on_altstack = True;
      ts->alt_lo = lo;
      ts->alt_hi = lo + sz;
      f = push_frame(ts, lo + sz, 0, SH_SEG_ALT);
   } else {
      SH_(unwind_to)(ts, sp);
      f = push_frame(ts, sp - 1, 0, SH_(seg_of)(ts, sp - 1));
   }
   tl_assert(f == &ts->frames[ts->depth - 1]);
   f->signal = True;
}

void SH_(signal_returned)(ThreadId tid, Int sig)
{
   ThreadState* ts = SH_(thread)(tid);
   Int j;
   /* Pop through the innermost signal pseudo-frame, if still there. */
   for (j = ts->depth - 1; j >= 0; j--) {
      if (ts->frames[j].signal) {
         while (ts->depth > j) pop_frame(ts);
         break;
      }
   }
   ts->on_altstack = False;
   for (j = ts->depth - 1; j >= 0; j--)
      if (ts->frames[j].seg == SH_SEG_ALT) { ts->on_altstack = True; break; }
   SH_(rewrite_filter_copy)(ts);
}
