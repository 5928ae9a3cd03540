/*--------------------------------------------------------------------*/
/*--- stackheap: allocation sites.                     sh_sites.c  ---*/
/*--------------------------------------------------------------------*/

/* A site is the allocation call stack with the allocator's own frames
   (and --alloc-fn wrappers) removed, cut to --depth frames.  ExeContexts
   are hash-consed by the core, so one ExeContext is one site. */

#include "pub_tool_debuginfo.h"
#include "pub_tool_hashtable.h"
#include "pub_tool_machine.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"
#include "sh_vgapi.h"

typedef struct _SiteNode {
   struct _SiteNode* next;
   UWord  key;          /* the ExeContext* */
   Site*  site;
} SiteNode;

/* Cached answer to "is this IP in an allocator frame to be trimmed".
   The answers come from the debuginfo of the code at ip, which changes
   when objects are loaded or unloaded (another object may be mapped at
   an unloaded one's address): each is valid in the debuginfo epoch it
   was computed in, and recomputed in a later one. */
typedef struct _IpNode {
   struct _IpNode* next;
   UWord  key;          /* the IP */
   UInt   epoch;        /* VG_(current_DiEpoch)() of the answers below */
   Bool   trim;         /* an allocator frame: removed from the top */
   Bool   below_main;   /* libc start-up code: the stack ends before it */
   Bool   own;          /* in the tool's preload (e.g. its pthread_create wrapper) */
   UChar  stub;         /* a frame's function: allocator or PLT stub (SH_(is_allocator_or_stub));
                           2: not asked yet */
   UInt   gap;          /* CFA - SP of a frame at ip, as unwinds found it
                           (or SH_GAP_UNKNOWN, SH_GAP_VARIES): see shadow_unwind */
} IpNode;

static VgHashTable* site_table;
static VgHashTable* ip_table;
static XArray* all_sites;   /* of Site*, in creation order */

void SH_(sites_init)(void)
{
   site_table = VG_(HT_construct)("sh.sites");
   ip_table   = VG_(HT_construct)("sh.ips");
   all_sites  = VG_(newXA)(VG_(malloc), "sh.sites.xa", VG_(free), sizeof(Site*));
}

UInt  SH_(n_sites)(void) { return VG_(sizeXA)(all_sites); }
Site* SH_(site_at)(UInt i) { return *(Site**)VG_(indexXA)(all_sites, i); }

static Bool in_own_preload(Addr ip)
{
   const HChar* name;
   return VG_(get_objname)(VG_(current_DiEpoch)(), ip, &name)
          && VG_(strstr)(name, "vgpreload_stackheap") != NULL;
}

/* Our preload (the malloc replacements) and --alloc-fn functions. */
static Bool decide_trim(Addr ip)
{
   DiEpoch ep = VG_(current_DiEpoch)();
   const HChar* name;
   if (in_own_preload(ip))
      return True;
   if (SH_(n_alloc_fns)() > 0 && VG_(get_fnname)(ep, ip, &name))
      return SH_(is_alloc_fn_name)(name);
   return False;
}

/* libc code that runs main or a thread's start routine: the same for
   every site, so stacks end before it. */
static Bool is_start_up_code(Addr ip)
{
   DiEpoch ep = VG_(current_DiEpoch)();
   const HChar* name;
   if (VG_(get_fnname_kind_from_IP)(ep, ip) == Vg_FnNameBelowMain)
      return True;
   if (!VG_(get_fnname)(ep, ip, &name)) return False;
   if (VG_(strncmp)(name, "__libc_start_main", 17) == 0) return True;
   return VG_(strcmp)(name, "start_thread") == 0 || VG_(strcmp)(name, "clone") == 0
          || VG_(strcmp)(name, "clone3") == 0 || VG_(strcmp)(name, "__clone") == 0
          || VG_(strcmp)(name, "__clone3") == 0;
}

/* The IPs looked up last, direct-mapped in front of ip_table (every
   allocation and free looks up a few; VG_(HT_lookup) divides).  An entry
   is used only in the epoch it was made in (epochs start at 1, so the
   zeroed entries match nothing).  It also holds what shadow_unwind needs
   of the node (its "step"), so that a frame costs one cache line. */
#define SH_IP_CACHE 1024
typedef struct {
   Addr    ip;
   UInt    epoch;
   UInt    step;    /* SH_STEP_*, else the frame's gap (see shadow_unwind) */
   IpNode* node;
} IpCacheEnt;
static IpCacheEnt ip_cache[SH_IP_CACHE];

#define SH_GAP_UNKNOWN   0            /* IpNode.gap: no unwind gave one yet */
#define SH_GAP_VARIES    0xFFFFFFFFu  /* unwinds gave two */
#define SH_STEP_START_UP 0xFFFFFFFEu  /* start-up code: shadow_unwind stops */

static IpNode* ip_info_slow(Addr ip, UInt epoch)
{
   IpNode* n = VG_(HT_lookup)(ip_table, ip);
   if (UNLIKELY(n == NULL)) {
      n = VG_(malloc)("sh.ipnode", sizeof(IpNode));
      n->key = ip;
      n->epoch = epoch + 1;   /* (filled below) */
      VG_(HT_add_node)(ip_table, n);
   }
   if (UNLIKELY(n->epoch != epoch)) {
      n->epoch = epoch;
      n->trim = decide_trim(ip);
      n->below_main = is_start_up_code(ip);
      n->own = in_own_preload(ip);
      n->stub = 2;
      n->gap = SH_GAP_UNKNOWN;
   }
   return n;
}

static UInt step_of(const IpNode* n)
{
   return n->below_main && !n->trim ? SH_STEP_START_UP : n->gap;
}

static inline IpCacheEnt* ip_ent(Addr ip, UInt epoch)
{
   IpCacheEnt* e = &ip_cache[(ip ^ (ip >> 10)) & (SH_IP_CACHE - 1)];
   if (LIKELY(e->ip == ip && e->epoch == epoch))
      return e;
   e->node = ip_info_slow(ip, epoch);
   e->ip = ip;
   e->epoch = epoch;
   e->step = step_of(e->node);
   return e;
}

static inline IpNode* ip_info(Addr ip)
{
   return ip_ent(ip, VG_(current_DiEpoch)().n)->node;
}

/* A shadow frame that is a call into the allocator itself or into a
   PLT stub (no function name): not the function that freed (free_caller,
   sh_alloc.c).  A frame's function is the call's target before
   redirection, so a free called through a function pointer (cJSON's
   hooks) has a frame for libc's own free: allocator names count as well.
   Asked of nearly every free's own call target, so the answer is kept
   in the target's node for the epoch (the symbol look-up and the
   compares were about 1% of python's run). */
static Bool decide_allocator_or_stub(Addr fn, Bool trim)
{
   static const HChar* const names[] = {
      "free", "cfree", "__libc_free", "realloc", "__libc_realloc", "reallocarray",
      "malloc", "__libc_malloc", "calloc", "__libc_calloc", NULL
   };
   const HChar* name;
   Int i;
   if (trim || !VG_(get_fnname)(VG_(current_DiEpoch)(), fn, &name))
      return True;
   for (i = 0; names[i] != NULL; i++)
      if (VG_(strcmp)(name, names[i]) == 0) return True;
   return VG_(strncmp)(name, "operator delete", 15) == 0
          || VG_(strncmp)(name, "_ZdlPv", 6) == 0 || VG_(strncmp)(name, "_ZdaPv", 6) == 0;
}

Bool SH_(is_allocator_or_stub)(Addr fn)
{
   IpNode* n = ip_info(fn);
   if (UNLIKELY(n->stub == 2)) n->stub = decide_allocator_or_stub(fn, n->trim);
   return n->stub;
}

Bool SH_(is_alloc_frame_ip)(Addr ip)
{
   return ip_info(ip)->trim;
}

/* The core's --merge-recursive-frames makes an unwind drop frames it has
   already produced (a recursion found later), so the first frames of a
   short unwind are then not the first frames of a longer one. */
Bool SH_(unwinds_merge_recursion)(void)
{
#if SH_VG_HAVE_CLO_MERGE_RECURSIVE_FRAMES
   return VG_(clo_merge_recursive_frames) != 0;
#else
   return True;   /* unknown: assume it does */
#endif
}

#define SH_MAX_UNWIND 96

/*------------------------------------------------------------*/
/*--- Unwinding with the shadow stack                      ---*/
/*------------------------------------------------------------*/

/* CFI unwinding was 5-9% of the run time of allocation-heavy programs
   (every allocation unwinds --depth + 1 frames, every free two).  The
   core's unwinder (m_stacktrace.c, amd64) gives ips[0] = the PC and
   sps[0] = the SP, then for each frame k looks up the CFI rules at
   ips[k], computes the frame's CFA from them and reads the return
   address in the slot just below it: ips[k + 1] = that address - 1 (the
   call, not the return point), sps[k + 1] = the CFA.

   shadow_unwind gives the same frames without the CFI: the distance CFA
   - SP of a frame at ips[k] (its "gap") is the one earlier unwinds found
   at that IP (learn_gaps), and the return address slot at sps[k] + gap
   - 8 must be a live shadow frame's entry SP (sh_frames.c): frames above
   it still on the shadow stack (left by a tail call, a longjmp or an
   exception, their slots reused or not) are passed over.  A frame costs
   a load of the slot and, mostly, of a per-thread cache entry.  It stops
   after the first start-up code frame (sites are cut there, and the
   frames the unwinder makes up past _start vary).

   Why it gives the unwinder's frames: in a function whose frame has a
   fixed size at each call (no alloca or VLA), the CFA is the SP at that
   IP plus a constant, whether the CFI rule is written from rsp or from
   rbp (rbp is then at a fixed place in the frame too): the gap an
   unwind found there before.  From the same PC and SP (frame 0), the
   unwinder computes the same CFA as shadow_unwind at every frame, reads
   the same slot and gets the same return address: the same IPs and SPs,
   by induction.  Its stops agree: a return address of 0 or 1 ends both;
   an IP no unwind has stepped past has no gap; near the stack's ends,
   where its bounds checks decide, shadow_unwind gives up.

   What remains assumed: a function that allocates stack dynamically, or
   code without CFI (the unwinder then follows rbp, or guesses), has no
   fixed gap.  An IP seen with two gaps is never used again, so a wrong
   frame needs such a function whose gap at a call differs from the one
   every unwind so far saw there, and a live shadow frame exactly where
   that old gap points (tests/test_shadow_unwind.py: changing VLA and
   alloca sizes).  Not used with --merge-recursive-frames (the unwinder
   drops frames then), off the thread's own stack or across a signal
   handler's pseudo-frame. */

static ULong n_shadow_unwinds, n_cfi_unwinds;   /* (--stats=yes) */
static Bool  last_unwind_read;   /* the last SH_(unwind) read the shadow stack */

/* The steps of the return addresses in each thread's shadow frames, by
   frame index, as the last walk found them: the walk reads the same
   frames again and again, and this array is read in order where the IP
   cache is read at random (a cache miss per frame was most of the
   walk's cost).  An entry holds while step_stamp has not changed: it
   changes with the epoch and with every step the IP cache changes. */
#define SH_WALK_CACHE 1024
typedef struct {
   Addr ra;      /* the return address read from the frame's slot */
   UInt step;    /* of ra - 1 */
   UInt stamp;   /* step_stamp when found */
} WalkEnt;
static WalkEnt** walk_cache;   /* [VG_N_THREADS], made at the first walk */
static UInt step_stamp = 1, step_stamp_epoch = 0;

/* The gaps of an unwind's frames: their IPs are the ones the CFI rules
   were looked up at. */
static void learn_gaps(const Addr* ips, const Addr* sps, UInt n)
{
   UInt k, epoch = VG_(current_DiEpoch)().n;
   for (k = 0; k + 1 < n; k++) {
      IpCacheEnt* e = ip_ent(ips[k], epoch);
      IpNode* in = e->node;
      UWord gap = sps[k + 1] - sps[k];
      if (in->gap == SH_GAP_VARIES) continue;
      if (gap == 0 || gap >= SH_STEP_START_UP) in->gap = SH_GAP_VARIES;
      else if (in->gap == SH_GAP_UNKNOWN) in->gap = (UInt)gap;
      else if (in->gap != gap) in->gap = SH_GAP_VARIES;
      if (e->step != step_of(in)) {
         e->step = step_of(in);
         step_stamp++;
      }
   }
}

/* The first n frames of thread tid's stack from its shadow stack and the
   gaps (the comment above), or fewer: up to the first start-up code
   frame, past which neither a site nor a free's caller looks (sites are
   cut there, and it is no allocator frame).  0 when it cannot give
   them. */
static UInt shadow_unwind(ThreadId tid, Addr* ips, UInt n, Addr* sps)
{
#if defined(VGA_amd64)
   ThreadState* ts = SH_(thread)(tid);
   Addr sp = VG_(get_SP)(tid);
   UInt k, epoch, step;
   Int j;
   WalkEnt* walk;
   if (!SH_(on_own_stack_only)(ts, sp) || n == 0 || sp + 256 >= ts->stack_top)
      return 0;
   epoch = VG_(current_DiEpoch)().n;
   if (UNLIKELY(epoch != step_stamp_epoch)) {
      step_stamp_epoch = epoch;
      step_stamp++;
   }
   if (UNLIKELY(walk_cache == NULL))
      walk_cache = VG_(calloc)("sh.sites.walks", VG_N_THREADS, sizeof(WalkEnt*));
   tl_assert(tid < VG_N_THREADS);
   if (UNLIKELY(walk_cache[tid] == NULL))
      walk_cache[tid] = VG_(calloc)("sh.sites.walk", SH_WALK_CACHE, sizeof(WalkEnt));
   walk = walk_cache[tid];
   ips[0] = VG_(get_IP)(tid);
   sps[0] = sp;
   step = ip_ent(ips[0], epoch)->step;
   j = ts->depth - 1;
   for (k = 0; k + 1 < n; k++) {
      Addr slot, ra;
      if (k > 0) {
         /* the step of frame k, whose return address frame j + 1 held
            (looked up only when needed: a free's walk has one step) */
         WalkEnt* w = &walk[(j + 1) & (SH_WALK_CACHE - 1)];
         ra = ips[k] + 1;
         if (LIKELY(w->ra == ra && w->stamp == step_stamp)) {
            step = w->step;
         } else {
            step = ip_ent(ips[k], epoch)->step;
            w->ra = ra;
            w->step = step;
            w->stamp = step_stamp;
         }
         if (step == SH_STEP_START_UP) break;
      }
      if (step == SH_GAP_UNKNOWN || step >= SH_STEP_START_UP) return 0;
      slot = sps[k] + step - sizeof(Addr);
      while (j >= 0 && ts->frames[j].entry_sp < slot) {
         if (ts->frames[j].signal) return 0;
         j--;
      }
      if (j < 0 || ts->frames[j].entry_sp != slot || ts->frames[j].signal
          || slot + 64 + sizeof(Addr) > ts->stack_top)
         return 0;
      /* (on this stack, between the SP and the top: mapped) */
      ra = *(const Addr*)slot;
      if (ra <= 1) return 0;
      ips[k + 1] = ra - 1;
      sps[k + 1] = slot + sizeof(Addr);
      j--;
   }
   return k + 1;
#else
   return 0;
#endif
}

UInt SH_(unwind)(ThreadId tid, /*OUT*/Addr* ips, UInt n, /*OUT*/Addr* sps)
{
   Bool merge = SH_(unwinds_merge_recursion)();
   UInt got = merge ? 0 : shadow_unwind(tid, ips, n, sps);
   /* (stopped at start-up code: fine unless every frame before it is an
      allocator frame, where the callers look past it) */
   if (got > 0 && (got == n || SH_(count_alloc_frames)(ips, got) + 1 < got)) {
      n_shadow_unwinds++;
      last_unwind_read = True;
      return got;
   }
   got = VG_(get_StackTrace)(tid, ips, n, sps, NULL, 0);
   n_cfi_unwinds++;
   last_unwind_read = False;
   if (!merge) learn_gaps(ips, sps, got);
   return got;
}

/*------------------------------------------------------------*/
/*--- Remembered sites: the site of each stack's first IPs ---*/
/*------------------------------------------------------------*/

/* What SH_(site_for) computes from an unwind is a function of its IPs
   alone within one debuginfo epoch: ip_info's answers are (above), and
   ExeContexts are hash-consed on the IPs (the core archives an unmapped
   object's ExeContexts, so the same IPs can make a new one after an
   unmap, which advances the epoch).  So the answer is remembered per
   unwind, keyed by its IPs and the epoch, in a direct-mapped table: a hit
   costs a hash and a compare of the IPs instead of an ip_info look-up per
   frame, the ExeContext's hash-consing and the site table's look-up. */
#define SH_MEMO_SLOTS 8192

typedef struct {
   UInt  n;          /* IPs of the key; 0: empty slot */
   UInt  skip;       /* allocator frames at the top of them */
   UInt  epoch;
   UWord hash;
   Site* site;
   Addr  ips[];      /* the key: memo_width IPs (one cache miss for both) */
} MemoSlot;

/* Allocator frames past the first one that allocations have had (at
   most 3: --alloc-fn wrappers): the first unwind takes that many more
   frames, which then decide the site without a second one. */
static UInt probe_extra;

/* (--stats=yes) */
static ULong n_site_lookups, n_memo_hits, n_long_unwinds, n_stacks_read;

static UChar* memo;          /* SH_MEMO_SLOTS slots of memo_stride bytes */
static UInt   memo_width;    /* the most IPs a key holds */
static UInt   memo_stride;

static UWord hash_ips(const Addr* ips, UInt n)
{
   UWord h = n;
   UInt k;
   /* (two independent multiply chains: half the latency) */
   UWord g = 0;
   for (k = 0; k + 1 < n; k += 2) {
      h = (h ^ ips[k]) * 0x9E3779B97F4A7C15ULL;
      g = (g ^ ips[k + 1]) * 0xC2B2AE3D27D4EB4FULL;
   }
   if (k < n) h = (h ^ ips[k]) * 0x9E3779B97F4A7C15ULL;
   h ^= g;
   return h ^ (h >> 29);
}

static Bool same_ips(const Addr* a, const Addr* b, UInt n)
{
   UInt k;
   for (k = 0; k < n; k++)
      if (a[k] != b[k]) return False;
   return True;
}

/* Whether frames [0, n) of an unwind that may go on past them decide
   SH_(site_for)'s answer, skip of them allocator frames: the frame at
   skip and the --depth - 1 frames it keeps after it (the tool's own
   frames left out) are among them, or the stack is cut at start-up code
   among them.  (The same walk as site_from_frames' over those frames.) */
static Bool frames_decide_site(const Addr* ips, UInt n, UInt skip)
{
   UInt k, kept = 1, depth = SH_(clo_depth);
   if (skip >= n) return False;
   for (k = skip + 1; k < n; k++) {
      IpNode* in;
      if (kept >= depth) return True;
      in = ip_info(ips[k]);
      if (in->own) continue;
      if (in->below_main) return True;
      kept++;
   }
   return kept >= depth;
}

static Site* new_site(ExeContext* ec, const Addr* ips, UInt keep)
{
   Site* s = VG_(calloc)("sh.site", 1, sizeof(Site));
   SiteNode* node;
   s->ec = ec;
   s->n_ips = keep;
   s->ips = VG_(malloc)("sh.site.ips", keep * sizeof(Addr));
   VG_(memcpy)(s->ips, ips, keep * sizeof(Addr));
   s->first_time = SH_(instrs);
   s->min_size = ~0ULL;
   s->phase = SH_(cur_phase);
   s->homes = VG_(newXA)(VG_(malloc), "sh.homes", VG_(free), sizeof(Home));
   node = VG_(malloc)("sh.sitenode", sizeof(SiteNode));
   node->key = (UWord)ec;
   node->site = s;
   VG_(HT_add_node)(site_table, node);
   VG_(addToXA)(all_sites, &s);
   return s;
}

/* The site of the unwound frames [0, n), skip of them allocator frames
   (ips[skip + 1..] are rewritten). */
static Site* site_from_frames(Addr* ips, UInt n, UInt skip)
{
   UInt keep;
   ExeContext* ec;
   SiteNode* node;
   /* The tool's own wrappers below the allocator (pthread_create's) are
      not the program's frames. */
   {
      UInt k, m = skip + 1;
      for (k = skip + 1; k < n; k++)
         if (!ip_info(ips[k])->own) ips[m++] = ips[k];
      n = skip < n ? m : n;
   }
   keep = n - skip;
   if (keep > (UInt)SH_(clo_depth)) keep = SH_(clo_depth);
   /* Frames below main are start-up code, the same for every site. */
   {
      UInt k;
      for (k = 1; k < keep; k++)
         if (ip_info(ips[skip + k])->below_main) { keep = k; break; }
   }
   if (keep == 0) { ips[0] = 0; keep = 1; skip = 0; }
   tl_assert(keep >= 1 && keep <= (UInt)SH_(clo_depth) && skip + keep <= SH_MAX_UNWIND);
   ec = VG_(make_ExeContext_from_StackTrace)(ips + skip, keep);
   node = VG_(HT_lookup)(site_table, (UWord)ec);
   if (LIKELY(node != NULL))
      return node->site;
   return new_site(ec, ips + skip, keep);
}

UInt SH_(count_alloc_frames)(const Addr* ips, UInt n)
{
   UInt skip = 0;
   while (skip < n && SH_(is_alloc_frame_ip)(ips[skip]))
      skip++;
   return skip;
}

Site* SH_(site_for)(ThreadId tid, /*OUT*/Addr* depth0_sp, /*OUT*/Addr* depth0_ip)
{
   Addr ips[SH_MAX_UNWIND], sps[SH_MAX_UNWIND];
   UInt n, skip, first, probe, epoch, depth = SH_(clo_depth);
   Bool memo_ok = True;
   MemoSlot* slot = NULL;
   UWord h = 0;
   Site* s;

   /* The answer is the one of this algorithm (the frames it looks at):
      unwind first = --depth + 4 frames; when they all came and the
      allocator frames among them leave at most --depth, unwind
      SH_MAX_UNWIND frames instead; then site_from_frames.  (The
      unwinder produces frames innermost first, and without
      --merge-recursive-frames the first ones do not depend on how many
      are asked for.)  Unwinding costs per frame, so it first unwinds
      only --depth + 1 + probe_extra frames (the allocator frames and the
      frames kept), which decide the answer unless frames past them might
      matter (frames_decide_site); then it unwinds as above. */
   first = depth + 4 < SH_MAX_UNWIND ? depth + 4 : SH_MAX_UNWIND;
   probe = SH_(unwinds_merge_recursion)() ? first : depth + 1 + probe_extra;
   if (probe > first) probe = first;
   if (UNLIKELY(memo == NULL)) {
      memo_width = first;
      memo_stride = sizeof(MemoSlot) + memo_width * sizeof(Addr);
      memo = VG_(calloc)("sh.sites.memo", SH_MEMO_SLOTS, memo_stride);
   }
   tl_assert(probe <= memo_width && memo_width == first);
   n_site_lookups++;
   n = SH_(unwind)(tid, ips, probe, sps);
   if (last_unwind_read) n_stacks_read++;
   epoch = VG_(current_DiEpoch)().n;
   if (LIKELY(n > 0)) {
      h = hash_ips(ips, n);
      slot = (MemoSlot*)(memo + (h & (SH_MEMO_SLOTS - 1)) * memo_stride);
      if (slot->n == n && slot->hash == h && slot->epoch == epoch
          && same_ips(slot->ips, ips, n)) {
         n_memo_hits++;
         *depth0_sp = sps[slot->skip];
         *depth0_ip = ips[slot->skip];
         return slot->site;
      }
   }
   skip = SH_(count_alloc_frames)(ips, n);
   if (n == probe && probe < first
       && !(skip < first - depth && frames_decide_site(ips, n, skip))) {
      /* (skip < first - depth: then the frames the first unwind gives
         leave more than --depth past the allocator frames) */
      n = SH_(unwind)(tid, ips, first, sps);
      skip = SH_(count_alloc_frames)(ips, n);
      memo_ok = False;
      n_long_unwinds++;
   }
   if (n == first && first < SH_MAX_UNWIND && skip + depth >= n) {
      n = SH_(unwind)(tid, ips, SH_MAX_UNWIND, sps);
      skip = SH_(count_alloc_frames)(ips, n);
      memo_ok = False;
      n_long_unwinds++;
   }
   if (UNLIKELY(skip > probe_extra + 1 && skip < n && probe_extra < 3))
      probe_extra = skip - 1 < 3 ? skip - 1 : 3;
   if (skip == n) {
      /* Everything was an allocator frame: keep the outermost one. */
      skip = n > 0 ? n - 1 : 0;
   }
   *depth0_sp = n > 0 ? sps[skip] : 0;
   *depth0_ip = n > 0 ? ips[skip] : 0;
   if (memo_ok && slot != NULL) {
      /* (the key, before site_from_frames rewrites the frames) */
      tl_assert(n <= memo_width);
      VG_(memcpy)(slot->ips, ips, n * sizeof(Addr));
      slot->n = 0;
   } else {
      slot = NULL;
   }
   s = site_from_frames(ips, n, skip);
   if (slot != NULL) {
      slot->n = n;
      slot->skip = skip;
      slot->epoch = epoch;
      slot->hash = h;
      slot->site = s;
   }
   return s;
}

void SH_(sites_print_stats)(void)
{
   VG_(dmsg)("stackheap: %'llu allocation stacks: %'llu sites remembered, "
             "%'llu longer unwinds, %'llu read from the shadow stack; "
             "unwinds (allocations and frees): %'llu from the shadow stack, "
             "%'llu with the CFI\n",
             n_site_lookups, n_memo_hits, n_long_unwinds, n_stacks_read,
             n_shadow_unwinds, n_cfi_unwinds);
}

Home* SH_(site_home)(Site* s, Int depth, Addr fn)
{
   Word i, n = VG_(sizeXA)(s->homes);
   Home fresh;
   for (i = 0; i < n; i++) {
      Home* h = VG_(indexXA)(s->homes, i);
      if (h->depth == depth && h->fn == fn) return h;
   }
   VG_(memset)(&fresh, 0, sizeof(fresh));
   fresh.depth = depth;
   fresh.fn = fn;
   VG_(addToXA)(s->homes, &fresh);
   return VG_(indexXA)(s->homes, n);
}

/*------------------------------------------------------------*/
/*--- Phases                                               ---*/
/*------------------------------------------------------------*/

Int SH_(cur_phase) = -1;
static XArray* phases = NULL;   /* of Phase */

void SH_(set_phase)(HChar* name)
{
   Word i;
   Phase p;
   if (phases == NULL)
      phases = VG_(newXA)(VG_(malloc), "sh.phases", VG_(free), sizeof(Phase));
   for (i = 0; i < VG_(sizeXA)(phases); i++) {
      Phase* q = VG_(indexXA)(phases, i);
      if (VG_(strcmp)(q->name, name) == 0) {
         SH_(cur_phase) = i;
         VG_(free)(name);
         return;
      }
   }
   p.name = name;
   p.blocks = p.bytes = 0;
   VG_(addToXA)(phases, &p);
   SH_(cur_phase) = VG_(sizeXA)(phases) - 1;
}

UInt SH_(n_phases)(void) { return phases ? VG_(sizeXA)(phases) : 0; }
Phase* SH_(phase_at)(UInt i) { return VG_(indexXA)(phases, i); }

/* Every block allocated is live or retired with one class; totals are
   the sums over the sites. */
Bool SH_(sites_sane)(void)
{
   UInt i;
   Int c;
   ULong blocks = 0, live = 0, classes[SH_N_CLASSES];
   VG_(memset)(classes, 0, sizeof classes);
   for (i = 0; i < SH_(n_sites)(); i++) {
      const Site* s = SH_(site_at)(i);
      ULong retired = 0;
      for (c = 0; c < SH_N_CLASSES; c++) {
         retired += s->classes[c];
         classes[c] += s->classes[c];
      }
      SH_SANE(retired + s->live + s->waiting == s->blocks,
              "site %u: %llu retired + %llu live + %llu waiting on holders != %llu blocks\n",
              i, retired, s->live, s->waiting, s->blocks);
      SH_SANE(s->live <= s->max_live && s->freed <= s->blocks, "site %u live counts\n", i);
      SH_SANE(s->n_ips >= 1 && s->ec != NULL, "site %u stack\n", i);
      blocks += s->blocks;
      live += s->live;
   }
   SH_SANE(blocks == SH_(total_blocks), "sites hold %llu blocks, the total is %llu\n",
           blocks, SH_(total_blocks));
   for (c = 0; c < SH_N_CLASSES; c++)
      SH_SANE(classes[c] == SH_(total_classes)[c], "class %s: sites %llu, total %llu\n",
              SH_(class_name)[c], classes[c], SH_(total_classes)[c]);
   return True;
}
