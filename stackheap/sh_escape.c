/*--------------------------------------------------------------------*/
/*--- stackheap: pointer escapes.                     sh_escape.c  ---*/
/*--------------------------------------------------------------------*/

/* Generated code calls SH_(on_store) for every store whose value falls
   inside the bounds of the heap.  If the value points into a live block,
   the destination decides what that means for the block:
     - its own bytes: nothing;
     - this thread's stack: the frame owning the slot encloses the block's
       life from now on, so the block's home moves out to it if older;
     - another thread's stack: class thread;
     - another live heap block: the block inherits that holder's fate
       (sh_holders.c): heap only if the holder cannot live on the stack;
     - anything else (globals, TLS, mmap'd memory): class global.
   Stores are history: a later overwrite does not undo an escape. */

#include "pub_tool_machine.h"
#include "pub_tool_threadstate.h"
#include "libvex_guest_amd64.h"
#include "sh_global.h"

/* "heap block allocated at f (x.c:3), which was stored in global
   variable 'g'": the holder and why it could not move. */
static HChar* describe_heap_target(const Site* holder, const ShWhy* why)
{
   HChar reason[768];
   HChar *loc, *out;
   loc = holder != NULL ? SH_(code_loc_dup)(holder->ips[0])
                        : VG_(strdup)("sh.target", "an unknown site");
   SH_(describe_why)(why, reason, sizeof reason);
   out = SH_(printf_dup)("heap block allocated at %s, %s", loc, reason);
   VG_(free)(loc);
   return out;
}

static HChar* describe_target(ShClass cls, Addr dest, ThreadId other)
{
   HChar buf[64];
   switch (cls) {
   case SH_CLASS_THREAD:
      if (other == 0)
         return VG_(strdup)("sh.target", "handed to a new thread by pthread_create");
      VG_(snprintf)(buf, sizeof buf, "stack of thread %u", other);
      return VG_(strdup)("sh.target", buf);
   default:
      return SH_(describe_data_addr)(dest);
   }
}

static ShEscape escape_of(ShClass cls)
{
   switch (cls) {
   case SH_CLASS_GLOBAL: return SH_ESC_GLOBAL;
   case SH_CLASS_THREAD: return SH_ESC_THREAD;
   default:              return SH_ESC_HEAP;
   }
}

static void note_first_escape(Site* s, ShClass cls, Addr ip, HChar* target)
{
   s->first_escape.valid = True;
   s->first_escape.cls = cls;
   s->first_escape.store_ip = ip;
   s->first_escape.target = target;
}

/* Which store locations escape the block (for remove_escape): the first
   one (with the holder's site for a heap escape: a structure's own links),
   or "more than one". */
static void note_escape_ip(Block* b, Addr ip, ShClass cls, const Site* holder_site)
{
   Addr first = SH_(block_escape_ip)(b);
   if (first == 0) { b->store_pt = SH_(store_pt_for)(ip, cls, holder_site); return; }
   if (first != ip) b->escape_ip_multi = True;
}

/* A global or thread escape (heap escapes go through SH_(escape_heap)). */
static void escape(Block* b, ShClass cls, Addr ip, Addr dest, ThreadId other)
{
   Site* s = b->site;
   ShEscape e = escape_of(cls);
   BlockExtra* x;
   note_escape_ip(b, ip, cls, NULL);
   if (e <= b->escape) return;
   b->escape = e;
   x = SH_(bx_make)(b);
   x->esc_dest = dest;
   x->esc_other = other;
   if (x->hn != NULL) SH_(holders_drop)(b);
   if (!s->first_escape.valid)
      note_first_escape(s, cls, ip, describe_target(cls, dest, other));
}

void SH_(escape_block)(Block* b, ShClass cls, Addr ip, Addr dest)
{
   if (b->counted && b->site != NULL)
      escape(b, cls, ip, dest, 0);
}

/* b is heap for certain: stored at ip into a block of holder_site that
   could not live on the stack, for the reason why. */
void SH_(escape_heap)(Block* b, Addr ip, const Site* holder_site, const ShWhy* why)
{
   /* the holder's line tells a structure's own links apart (remove_escape) */
   note_escape_ip(b, ip, SH_CLASS_HEAP, holder_site);
   if (SH_ESC_HEAP <= b->escape) return;
   b->escape = SH_ESC_HEAP;
   SH_(note_heap_first_escape)(b->site, ip, holder_site, why);
}

/* First escape of a site whose block was judged heap through a holder
   only once the holder's fate was known. */
void SH_(note_heap_first_escape)(Site* s, Addr ip, const Site* holder_site, const ShWhy* why)
{
   if (!s->first_escape.valid)
      note_first_escape(s, SH_CLASS_HEAP, ip, describe_heap_target(holder_site, why));
}

/* Another live thread whose stack (from its SP up to its start) holds a. */
static ThreadId other_stack_owner(ThreadId self, Addr a)
{
   ThreadId t;
   for (t = 1; t <= SH_(max_tid)(); t++) {
      ThreadState* ts;
      if (t == self) continue;
      ts = SH_(thread_if_any)(t);
      if (ts == NULL || ts->stack_top == 0 || !SH_(thread_alive)(t)) continue;
      if (a <= ts->stack_top && a + 128 >= VG_(get_SP)(t))
         return t;
   }
   return 0;
}

/* A store into this thread's stack: the owning frame must enclose the
   block's life, so the home moves out to the oldest such frame. */
static void stack_store(ThreadState* ts, Block* b, Addr dest, Addr ip)
{
   Int j, anc;
   if (b->alloc_idx < 0 || b->home_idx < 0) return;
   j = SH_(frame_owning)(ts, dest);
   /* Stack above every frame we know (start-up code): no home can hold it. */
   anc = j < 0 ? -1 : SH_(surviving_ancestor)(ts, j, b->alloc_serial);
   tl_assert(anc < ts->depth);
   if (anc < b->home_idx) {
      b->home_idx = anc;
      b->store_pt = SH_(store_pt_for)(ip, SH_PT_HOME, NULL);
   }
}

/* b is off the stack and ip is a known escaping location of it, or it
   has two already: a store at ip can teach only a higher class. */
static inline Bool escape_location_known(const Block* b, Addr ip)
{
   return b->escape != SH_ESC_NONE
          && (b->escape_ip_multi || SH_(block_escape_ip)(b) == ip);
}

ULong SH_(n_store_checks) = 0;   /* helper calls (values inside the heap bounds) */
ULong SH_(n_store_hits) = 0;     /* ... that pointed into a live block */

VG_REGPARM(3) void SH_(on_store_at)(Addr dest, Addr v, Addr ip)
{
   Block* b;
   ThreadId tid;
   ThreadState* ts;
   Block* d;
   ThreadId other;

   SH_(n_store_checks)++;
   /* A block marked settled below, still live where it was: the same
      early return as below, without reading its record (most of gawk's
      and python's stores). */
   if (SH_(store_settled)(v)) { SH_(n_store_hits)++; return; }
   b = SH_(block_containing)(v);
   if (b == NULL) return;
   SH_(n_store_hits)++;
   /* Nothing more to learn from any store of a block not counted, or
      global and already known to escape at more than one code location
      (remove_escape needs the second one; global is the last class a
      block can move to).  Until then, the known location teaches nothing. */
   if (!b->counted || b->site == NULL
       || (b->escape == SH_ESC_GLOBAL && b->escape_ip_multi)) {
      SH_(mark_settled)(v, b);
      return;
   }
   if (b->escape == SH_ESC_GLOBAL && escape_location_known(b, ip))
      return;
   if (dest - b->start < b->size) return;           /* into itself */
   ts = SH_(cur_ts) ? SH_(cur_ts) : SH_(thread)(VG_(get_running_tid)());
   tid = ts->tid;
   if (UNLIKELY(ts->handoff_value != 0) && v == ts->handoff_value)
      return;                                       /* pthread_create's own copy */

   if (SH_(seg_of)(ts, dest) != SH_SEG_OTHER) {
      if (b->tid != tid) {
         escape(b, SH_CLASS_THREAD, ip, dest, tid);
         return;
      }
      {
         /* Returns pop frames lazily (sh_frames.c): catch up, which also
            widens the innermost-frame filter for the code that follows.
            SP is exact here: Valgrind writes it back at memory accesses. */
         Addr sp = VG_(get_SP)(tid);
         if (ts->depth > 0 && ts->frames[ts->depth - 1].entry_sp < sp)
            SH_(unwind_to)(ts, sp);
      }
      if (b->escape == SH_ESC_NONE) stack_store(ts, b, dest, ip);
      return;
   }
   d = SH_(block_containing)(dest);
   if (d != NULL) {
      /* A block already off the stack learns from a store into another
         block only a second escaping location (remove_escape): once that
         is known, or this is the known one, holder_store would change
         nothing (most of perl's stores). */
      if (d != b && !escape_location_known(b, ip))
         SH_(holder_store)(b, d, ip, dest);
      return;
   }
   other = other_stack_owner(tid, dest);
   if (other != 0)
      escape(b, SH_CLASS_THREAD, ip, dest, other);
   else
      escape(b, SH_CLASS_GLOBAL, ip, dest, 0);
}

/* The common entry: the store's address is the guest RIP, where the
   instrumentation knows it holds it (sh_instrument.c, track_rip); the
   generated code then passes the guest-state pointer, a 3-byte move,
   instead of a 10-byte constant. */
VG_REGPARM(3) void SH_(on_store)(Addr dest, Addr v, const UChar* gs)
{
   SH_(on_store_at)(dest, v, ((const VexGuestAMD64State*)gs)->guest_RIP);
}

VG_REGPARM(3) void SH_(on_store_region)(Addr dest, SizeT len, Addr ip)
{
   Addr w = (dest + 7) & ~(Addr)7;
   for (; w + 8 <= dest + len; w += 8) {
      Addr v = *(Addr*)w;
      if (v - SH_(heap_lo) < SH_(heap_span))
         SH_(on_store_at)(w, v, ip);
   }
}
