/*--------------------------------------------------------------------*/
/*--- stackheap: per-thread state and its lifecycle. sh_threads.c  ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_libcproc.h"
#include "pub_tool_machine.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"

/* Indexed by ThreadId; entries are created on first use and kept after
   the thread exits (their statistics go into the report). */
static ThreadState** threads = NULL;
static UInt n_threads_alloc = 0;
static ThreadId max_tid_seen = 0;
static UInt n_created = 0;

void SH_(threads_init)(void)
{
   n_threads_alloc = VG_N_THREADS + 1;
   threads = VG_(calloc)("sh.threads", n_threads_alloc, sizeof(ThreadState*));
}

ThreadId SH_(max_tid)(void) { return max_tid_seen; }

ThreadState* SH_(cur_ts) = NULL;

void SH_(thread_runs)(ThreadId tid)
{
   SH_(cur_ts) = SH_(thread)(tid);
   tl_assert(SH_(cur_ts)->tid == tid);
   SH_(rewrite_filter_copy)(SH_(cur_ts));
}

ThreadState* SH_(thread_if_any)(ThreadId tid)
{
   if (tid >= n_threads_alloc) return NULL;
   return threads[tid];
}

/* Whether the core still has thread t.  Our own 'live' flag is not
   enough: a fork child loses every other thread without an exit event,
   and the core asserts when asked about an empty slot. */
Bool SH_(thread_alive)(ThreadId t)
{
   ThreadId it;
   Addr lo, hi;
   ThreadState* ts = SH_(thread_if_any)(t);
   if (t == 0 || (ts != NULL && !ts->live)) return False;
   it = t - 1;
   return VG_(thread_stack_next)(&it, &lo, &hi) && it == t;
}

/* The stack's extent as the core knows it; refined at the first insn. */
static void set_stack_bounds(ThreadState* ts)
{
   Addr  max;
   SizeT size;
   if (!SH_(thread_alive)(ts->tid)) return;
   max  = VG_(thread_get_stack_max)(ts->tid);
   size = VG_(thread_get_stack_size)(ts->tid);
   if (max != 0) {
      ts->stack_top   = max;
      ts->stack_limit = (size != 0 && size < max) ? max - size : 0;
   }
}

ThreadState* SH_(thread)(ThreadId tid)
{
   ThreadState* ts;
   tl_assert(tid > 0 && tid < n_threads_alloc);
   ts = threads[tid];
   if (LIKELY(ts != NULL)) return ts;
   ts = VG_(calloc)("sh.thread", 1, sizeof(ThreadState));
   ts->tid = tid;
   ts->live = True;
   ts->capacity = 256;
   ts->frames = VG_(malloc)("sh.frames", ts->capacity * sizeof(Frame));
   ts->root_idx = -1;
   ts->next_serial = 1;
   set_stack_bounds(ts);
   threads[tid] = ts;
   if (tid > max_tid_seen) max_tid_seen = tid;
   return ts;
}

void SH_(thread_created)(ThreadId parent, ThreadId child)
{
   ThreadState* ts;
   /* A recycled ThreadId starts afresh; the old statistics were merged
      into the totals when it exited. */
   if (child < n_threads_alloc && threads[child] != NULL) {
      ts = threads[child];
      ts->depth = 0; ts->n_nonnormal = 0; ts->root_idx = -1;
      ts->live = True; ts->on_altstack = False; ts->handoff_value = 0;
      set_stack_bounds(ts);
   }
   ts = SH_(thread)(child);
   /* The core announces the main thread too. */
   if (++n_created > 1) SH_(single_threaded) = False;
   if (SH_(cur_ts) != NULL) SH_(refresh_top_filter)(SH_(cur_ts));
}

/* The starting stack pointer: above it lie the thread's descriptor and TLS
   (or, for the main thread, argv and the environment): not stack. */
void SH_(thread_first_insn)(ThreadId tid)
{
   ThreadState* ts = SH_(thread)(tid);
   Addr sp = VG_(get_SP)(tid);
   set_stack_bounds(ts);
   if (sp != 0 && (ts->stack_top == 0 || sp <= ts->stack_top)) {
      ts->stack_top = sp;
      if (ts->stack_limit == 0 || ts->stack_limit >= sp)
         ts->stack_limit = sp - 8 * 1024 * 1024;
   }
}

void SH_(thread_exited)(ThreadId tid)
{
   ThreadState* ts = SH_(thread_if_any)(tid);
   if (ts == NULL) return;
   ts->live = False;
   ts->depth = 0;
   ts->n_nonnormal = 0;
   ts->root_idx = -1;
   ts->on_altstack = False;
   ts->handoff_value = 0;
   if (SH_(cur_ts) == ts) SH_(cur_ts) = NULL;
}

/* In a fork child only the forking thread goes on; the core empties the
   other slots without telling the tool. */
static void fork_child(ThreadId me)
{
   ThreadId t;
   for (t = 1; t <= max_tid_seen; t++)
      if (t != me) SH_(thread_exited)(t);
   SH_(thread_runs)(me);
}

void SH_(threads_watch_fork)(void)
{
   VG_(atfork)(NULL, NULL, fork_child);
}

/* One shadow stack: what frame_owning's binary search, surviving_ancestor
   and the lazy popping rely on. */
static Bool stack_sane(const ThreadState* ts)
{
   Int j, nonnormal = 0;
   Addr last_normal = ~(Addr)0;
   SH_SANE(ts->depth >= 0 && ts->depth <= ts->capacity, "thread %u depth %d\n",
           ts->tid, ts->depth);
   SH_SANE(ts->root_idx >= -1 && ts->root_idx < ts->depth, "thread %u root %d of %d\n",
           ts->tid, ts->root_idx, ts->depth);
   for (j = 0; j < ts->depth; j++) {
      const Frame* f = &ts->frames[j];
      SH_SANE(f->seg <= SH_SEG_OTHER, "thread %u frame %d seg %d\n", ts->tid, j, f->seg);
      SH_SANE(j == 0 || f->serial > ts->frames[j - 1].serial,
              "thread %u frame %d serial out of order\n", ts->tid, j);
      SH_SANE(f->serial < ts->next_serial, "thread %u frame %d serial\n", ts->tid, j);
      if (f->seg != SH_SEG_NORMAL) { nonnormal++; continue; }
      /* Frames on the thread's own stack: ordered by stack pointer (each
         pushed below the ones still active) and inside the stack. */
      SH_SANE(f->entry_sp < last_normal, "thread %u frame %d SP not below its caller's\n",
              ts->tid, j);
      SH_SANE(f->entry_sp <= ts->stack_top && f->entry_sp >= ts->stack_limit,
              "thread %u frame %d SP %#lx outside its stack [%#lx, %#lx]\n",
              ts->tid, j, f->entry_sp, ts->stack_limit, ts->stack_top);
      last_normal = f->entry_sp;
   }
   SH_SANE(nonnormal == ts->n_nonnormal, "thread %u counts %d frames off its stack, has %d\n",
           ts->tid, ts->n_nonnormal, nonnormal);
   SH_SANE(!ts->on_altstack || ts->alt_lo <= ts->alt_hi, "thread %u alternate stack\n",
           ts->tid);
   return True;
}

Bool SH_(threads_sane)(Bool full)
{
   ThreadId t;
   const ThreadState* ts = SH_(cur_ts);
   if (ts != NULL) {
      SH_SANE(ts->live && ts->tid > 0 && ts->tid <= max_tid_seen
              && threads[ts->tid] == ts, "the running thread's state\n");
      SH_SANE(ts->depth >= 0 && ts->depth <= ts->capacity, "running thread depth\n");
   }
   if (!full) return True;
   for (t = 1; t <= max_tid_seen; t++) {
      ts = threads[t];
      if (ts == NULL) continue;
      SH_SANE(ts->tid == t, "thread table slot %u holds thread %u\n", t, ts->tid);
      if (!ts->live) {
         SH_SANE(ts->depth == 0 && ts->root_idx == -1, "exited thread %u has frames\n", t);
         continue;
      }
      if (!stack_sane(ts)) return False;
   }
   return True;
}
