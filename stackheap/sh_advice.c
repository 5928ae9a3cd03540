/*--------------------------------------------------------------------*/
/*--- stackheap: severities and suggestions.           sh_advice.c ---*/
/*--------------------------------------------------------------------*/

/* Each suggestion kind has one precise trigger, documented in
   docs/manual.md ("Suggestions"); the constants below are those
   thresholds.  Savings count allocator calls (an allocation and its
   free are two calls) and heap bytes no longer requested.  Stack cost is
   the bytes a change adds to one frame times the most simultaneous
   activations of that frame's function seen (recursion); a stack change
   that would cost more than --stack-budget is replaced by a pool. */

#include "pub_tool_hashtable.h"
#include "sh_global.h"

const HChar* const SH_(severity_name)[4] = { "low", "medium", "high", "critical" };
const HChar* const SH_(sug_kind_name)[SH_N_SUG_KINDS] = {
   "use_stack_allocation", "caller_owned_storage", "bounded_local_buffer",
   "reserve_capacity", "hoist_out_of_loop", "object_pool", "remove_escape"
};

/* Severity by bytes allocated at the site (the guide's 100 KB/1 MB/10 MB). */
#define SH_SEV_MEDIUM_BYTES   (100ULL * 1024)
#define SH_SEV_HIGH_BYTES     (1024ULL * 1024)
#define SH_SEV_CRITICAL_BYTES (10ULL * 1024 * 1024)

/* "Nearly all": the share of a site's blocks a verdict must cover. */
#define SH_NEARLY_ALL_PERMILLE   900
/* reserve_capacity: growth steps of one buffer. */
#define SH_MIN_GROWTH_CHAIN      4
/* hoist_out_of_loop: reuses in one activation, and share of the blocks. */
#define SH_MIN_REUSE_RUN         3
#define SH_MIN_REUSE_PERMILLE    500
/* object_pool: churn and bound. */
#define SH_POOL_MIN_BLOCKS       100
#define SH_POOL_MIN_CHURN        10     /* blocks per pool slot */
#define SH_POOL_MAX_LIVE         4096
/* bounded_local_buffer: use a percentile buffer when the maximum is this
   many times the 95th percentile. */
#define SH_PERCENTILE_FACTOR     4
/* remove_escape: share of the blocks that escaped through one store. */
#define SH_MIN_SOLE_ESCAPE_PERMILLE 500

ShSeverity SH_(severity_of)(const Site* s)
{
   if (s->bytes >= SH_SEV_CRITICAL_BYTES) return SH_SEV_CRITICAL;
   if (s->bytes >= SH_SEV_HIGH_BYTES)     return SH_SEV_HIGH;
   if (s->bytes >= SH_SEV_MEDIUM_BYTES)   return SH_SEV_MEDIUM;
   return SH_SEV_LOW;
}

static Bool at_least_permille(ULong part, ULong whole, ULong permille)
{
   return whole > 0 && part * 1000 >= whole * permille;
}

/* The home holding most of the site's eligible blocks. */
static const Home* main_home(const Site* s)
{
   Word i;
   const Home* best = NULL;
   for (i = 0; i < VG_(sizeXA)(s->homes); i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      if (best == NULL || h->blocks > best->blocks
          || (h->blocks == best->blocks && h->depth < best->depth))
         best = h;
   }
   return best;
}

/* Most simultaneous activations of each home function, over every site:
   a local added to a function's frame is paid by each of its activations,
   whichever site's blocks were live in them (a recursive function's
   shallow calls may be separate sites from its deep ones). */
typedef struct _FnActs {
   struct _FnActs* next;
   UWord key;          /* the function's entry address */
   UInt  max_activations;
} FnActs;

static VgHashTable* fn_acts = NULL;

static void note_fn_acts(Site** sites, UInt n)
{
   UInt i;
   Word j;
   fn_acts = VG_(HT_construct)("sh.advice.fnacts");
   for (i = 0; i < n; i++) {
      for (j = 0; j < VG_(sizeXA)(sites[i]->homes); j++) {
         const Home* h = VG_(indexXA)(sites[i]->homes, j);
         FnActs* f = VG_(HT_lookup)(fn_acts, h->fn);
         if (f == NULL) {
            f = VG_(malloc)("sh.advice.fnacts.node", sizeof(FnActs));
            f->key = h->fn;
            f->max_activations = 0;
            VG_(HT_add_node)(fn_acts, f);
         }
         if (h->max_activations > f->max_activations)
            f->max_activations = h->max_activations;
      }
   }
}

/* Activations of the home a suggestion puts the storage in. */
static UInt max_activations(const Home* h)
{
   const FnActs* f = fn_acts ? VG_(HT_lookup)(fn_acts, h->fn) : NULL;
   UInt k = h->max_activations;
   if (f != NULL && f->max_activations > k) k = f->max_activations;
   return k > 0 ? k : 1;
}

static void add(XArray* out, ShSugKind kind, Site* s, const HChar* text,
                ULong calls, ULong bytes, ULong stack, const HChar* difficulty)
{
   Suggestion g;
   tl_assert(kind < SH_N_SUG_KINDS && s != NULL && text != NULL && difficulty != NULL);
   g.kind = kind;
   g.site = s;
   g.text = VG_(strdup)("sh.sug.text", text);
   g.saved_calls = calls;
   g.saved_bytes = bytes;
   g.stack_cost = stack;
   g.difficulty = difficulty;
   VG_(addToXA)(out, &g);
}

/* Strings made while building suggestions, freed together at the end
   (names have no length limit, and the builders return early). */
static XArray* scratch = NULL;   /* of HChar* */

static HChar* keep_str(HChar* str)
{
   tl_assert(scratch != NULL);
   VG_(addToXA)(scratch, &str);
   return str;
}

/* "fn (file:line)" of the allocating line; for blocks of one memory pool
   "fn (file:line) from the memory pool created at fn (file:line)": a
   stack-eligible pool block is still a local, and the text says which
   pool to take it out of. */
static HChar* alloc_loc(const Site* s)
{
   HChar* loc = keep_str(SH_(code_loc_dup)(s->ips[0]));
   if (s->pool_ip != 0 && !s->pool_mixed) {
      HChar* pool = keep_str(SH_(pool_site_name_dup)(s));
      loc = keep_str(SH_(printf_dup)("%s from %s", loc, pool));
   }
   return loc;
}

/* A function's name for "name()" in a sentence: a demangled C++ name
   loses its parameter list (and a trailing " const"), so that the text
   reads "fill()" rather than "fill(int)()". */
static HChar* fn_of(Addr a)
{
   HChar* buf = keep_str(SH_(fn_name_dup)(a));
   Int len, depth = 0;
   len = VG_(strlen)(buf);
   if (len > 6 && VG_(strcmp)(buf + len - 6, " const") == 0)
      len -= 6;
   if (len < 2 || buf[len - 1] != ')') return buf;
   for (len = len - 1; len > 0; len--) {
      if (buf[len] == ')') depth++;
      else if (buf[len] == '(' && --depth == 0) break;
   }
   if (len > 0) buf[len] = '\0';
   return buf;
}

/* 95th percentile from the power-of-two histogram: the smallest 2^k such
   that at least 95% of the blocks are smaller.  *under_bytes: the bytes
   of the blocks that fit. */
static ULong p95_bound(const Site* s, /*OUT*/ULong* over, /*OUT*/ULong* under_bytes)
{
   ULong cum = 0, cum_bytes = 0;
   UInt b;
   for (b = 0; b < SH_SIZE_BUCKETS; b++) {
      cum += s->size_hist[b];
      cum_bytes += s->size_hist_bytes[b];
      if (cum * 100 >= s->blocks * 95) {
         *over = s->blocks - cum;
         *under_bytes = cum_bytes;
         return 1ULL << (b + 1);
      }
   }
   *over = 0;
   *under_bytes = s->bytes;
   return s->max_size;
}

/* A stack change over the budget becomes a pool of the most blocks
   alive at once. */
static void pool_instead(XArray* out, Site* s, ULong eligible, ULong per_frame,
                         UInt activations, const HChar* what)
{
   HChar *loc, *text;
   ULong keep = s->max_live ? s->max_live : 1;
   loc = alloc_loc(s);
   text = keep_str(SH_(printf_dup)(
      "%s at %s would need %'llu bytes of stack (%'llu bytes x %u simultaneous "
      "activations), over --stack-budget=%'llu: keep a pool or free list of %'llu "
      "block%s of %'llu bytes instead",
      what, loc, per_frame * activations, per_frame, activations,
      SH_(clo_stack_budget), keep, keep == 1 ? "" : "s", s->max_size));
   add(out, SH_SUG_POOL, s, text, eligible > keep ? 2 * (eligible - keep) : 0,
       eligible > keep ? (eligible - keep) * s->max_size : 0, 0, "medium");
}

static void suggest_stack(XArray* out, Site* s)
{
   ULong frame = s->classes[SH_CLASS_FRAME], caller = s->classes[SH_CLASS_CALLER];
   ULong elig = frame + caller;
   const Home* h = main_home(s);
   UInt acts;
   HChar *loc, *home_fn, *alloc_fn, *text;
   ULong buf, cost, over, under_bytes, saved_bytes;

   if (h == NULL || !at_least_permille(elig, s->blocks, SH_NEARLY_ALL_PERMILLE))
      return;
   acts = max_activations(h);
   loc = alloc_loc(s);
   home_fn = fn_of(h->fn);
   alloc_fn = fn_of(s->ips[0]);

   if (s->varied_sizes) {
      /* bounded_local_buffer */
      ULong p95 = p95_bound(s, &over, &under_bytes);
      saved_bytes = SH_(site_eligible_bytes)(s);
      if (s->max_size > SH_PERCENTILE_FACTOR * p95 && over > 0) {
         buf = p95;
         /* The fallback blocks are still malloc'd: only the ones that fit
            in the buffer are saved. */
         if (under_bytes < saved_bytes) saved_bytes = under_bytes;
         text = keep_str(SH_(printf_dup)(
            "sizes at %s vary from %'llu to %'llu bytes: a %'llu-byte local buffer in "
            "%s() covers %'llu of %'llu blocks (95th percentile); fall back to malloc "
            "for the other %'llu (%llu.%llu%%)",
            loc, s->min_size, s->max_size, buf, home_fn, s->blocks - over, s->blocks,
            over, (over * 1000 / s->blocks) / 10, (over * 1000 / s->blocks) % 10));
      } else {
         buf = s->max_size;
         text = keep_str(SH_(printf_dup)(
            "sizes at %s vary from %'llu to %'llu bytes, and %'llu of %'llu blocks could "
            "have lived in %s() (depth %d): use a fixed %'llu-byte local buffer there",
            loc, s->min_size, s->max_size, elig, s->blocks, home_fn, h->depth, buf));
      }
      cost = buf * acts;
      if (cost > SH_(clo_stack_budget)) {
         pool_instead(out, s, elig, buf, acts, "a local buffer");
         return;
      }
      add(out, SH_SUG_BOUNDED_BUFFER, s, text, 2 * (elig - (buf < s->max_size ? over : 0)),
          saved_bytes, cost, "medium");
      return;
   }

   buf = s->const_size;
   cost = buf * acts;
   if (cost > SH_(clo_stack_budget)) {
      pool_instead(out, s, elig, buf, acts, h->depth == 0 ? "a local variable"
                                                          : "caller-owned storage");
      return;
   }
   if (at_least_permille(frame, s->blocks, SH_NEARLY_ALL_PERMILLE)) {
      text = keep_str(SH_(printf_dup)(
         "in %s() replace the %'llu-byte %s block allocated at %s with a local "
         "variable or array: %'llu of %'llu blocks were freed before %s() returned "
         "and their address never left its frame",
         alloc_fn, buf, s->pool_ip ? "pool" : "heap", loc, frame, s->blocks, alloc_fn));
      add(out, SH_SUG_USE_STACK, s, text, 2 * frame, s->cls_bytes[SH_CLASS_FRAME],
          cost, "easy");
   } else if (h->depth >= 1) {
      text = keep_str(SH_(printf_dup)(
         "%s() allocates %'llu bytes at %s that its caller %s() (depth %d) always "
         "outlives: let %s() own a %'llu-byte local and pass it down, or return the "
         "value by struct (%'llu of %'llu blocks)",
         alloc_fn, buf, loc, home_fn, h->depth, home_fn, buf, elig, s->blocks));
      add(out, SH_SUG_CALLER_OWNED, s, text, 2 * elig, SH_(site_eligible_bytes)(s),
          cost, "medium");
   }
}

static void suggest_reserve(XArray* out, Site* s)
{
   HChar *loc, *text;
   ULong calls;
   if (s->max_growth_chain < SH_MIN_GROWTH_CHAIN) return;
   loc = alloc_loc(s);
   text = keep_str(SH_(printf_dup)(
      "a buffer allocated at %s grew %'llu times, from %'llu to %'llu bytes%s: reserve "
      "%'llu bytes up front (one allocation of the final size, or reserve() for a "
      "container)",
      loc, s->max_growth_chain, s->chain_first_size, s->chain_last_size,
      s->growth_copy_steps ? " (allocate, copy, free)" : " (realloc)",
      s->chain_last_size));
   /* A realloc step is one call; an allocate-copy-free step is two. */
   calls = (s->growth_steps - s->growth_copy_steps) + 2 * s->growth_copy_steps;
   add(out, SH_SUG_RESERVE, s, text, calls, s->growth_bytes, 0, "easy");
}

static void suggest_hoist(XArray* out, Site* s)
{
   HChar *loc, *fn, *text;
   ULong bytes;
   if (s->max_reuse_run < SH_MIN_REUSE_RUN
       || !at_least_permille(s->reuse_blocks, s->blocks, SH_MIN_REUSE_PERMILLE))
      return;
   loc = alloc_loc(s);
   fn = fn_of(s->ips[0]);
   bytes = s->blocks ? s->bytes / s->blocks * s->reuse_blocks : 0;
   text = keep_str(SH_(printf_dup)(
      "%s() allocates and frees at %s again and again in one call (up to %u times, "
      "never two alive at once; %'llu of %'llu blocks): allocate once before the loop "
      "and reuse the block",
      fn, loc, s->max_reuse_run + 1, s->reuse_blocks, s->blocks));
   add(out, SH_SUG_HOIST, s, text, 2 * s->reuse_blocks, bytes, 0, "easy");
}

static void suggest_pool(XArray* out, Site* s)
{
   HChar *loc, *text;
   ULong keep = s->max_live ? s->max_live : 1;
   /* Blocks of a memory pool are pooled already. */
   if (s->pool_ip != 0) return;
   if (s->varied_sizes || s->blocks < SH_POOL_MIN_BLOCKS || keep > SH_POOL_MAX_LIVE
       || !at_least_permille(s->escaped_freed, s->blocks, SH_NEARLY_ALL_PERMILLE)
       || s->blocks < SH_POOL_MIN_CHURN * keep)
      return;
   loc = alloc_loc(s);
   text = keep_str(SH_(printf_dup)(
      "%'llu blocks of %'llu bytes allocated at %s escape the stack but at most %'llu "
      "%s alive at once: keep a pool or free list of %'llu object%s",
      s->blocks, s->const_size, loc, keep, keep == 1 ? "is" : "are", keep,
      keep == 1 ? "" : "s"));
   add(out, SH_SUG_POOL, s, text, 2 * (s->blocks - keep), (s->blocks - keep) * s->const_size,
       0, "medium");
}

static void suggest_remove_escape(XArray* out, Site* s)
{
   HChar *loc, *store, *home_fn, *text;
   const HChar* into;
   const FnActs* f;
   UInt acts;
   ULong cost;
   Bool over;
   if (s->sole_escape_blocks == 0
       || !at_least_permille(s->sole_escape_blocks, s->blocks, SH_MIN_SOLE_ESCAPE_PERMILLE))
      return;
   loc = alloc_loc(s);
   store = keep_str(SH_(code_loc_dup)(s->sole_escape_ip));
   home_fn = fn_of(s->sole_escape_home_fn);
   into = s->sole_escape_cls == SH_CLASS_GLOBAL ? "a global or static"
        : s->sole_escape_cls == SH_CLASS_THREAD ? "another thread's reach"
        : "another heap block";
   if (s->first_escape.valid && s->first_escape.store_ip == s->sole_escape_ip)
      into = s->first_escape.target;
   /* The stack the block would then take, paid by every activation. */
   f = VG_(HT_lookup)(fn_acts, s->sole_escape_home_fn);
   acts = (f != NULL && f->max_activations > 0) ? f->max_activations : 1;
   cost = s->sole_escape_max_size * acts;
   over = cost > SH_(clo_stack_budget);
   text = keep_str(SH_(printf_dup)(
      "%'llu of %'llu blocks allocated at %s escape only through the store at %s into %s; "
      "without it they could have lived in %s() (depth %d)%s",
      s->sole_escape_blocks, s->blocks, loc, store, into, home_fn, s->sole_escape_depth,
      over ? ", though as locals they would exceed --stack-budget: pool them instead" : ""));
   add(out, SH_SUG_REMOVE_ESCAPE, s, text, 2 * s->sole_escape_blocks,
       s->sole_escape_blocks * (s->blocks ? s->bytes / s->blocks : 0),
       over ? 0 : cost, s->sole_escape_cls == SH_CLASS_HEAP ? "medium" : "hard");
}

/* Largest saving first; ties by bytes, then site id, then kind. */
static Int cmp_sugs(const void* a, const void* b)
{
   const Suggestion* x = a;
   const Suggestion* y = b;
   if (x->saved_calls != y->saved_calls) return x->saved_calls > y->saved_calls ? -1 : 1;
   if (x->saved_bytes != y->saved_bytes) return x->saved_bytes > y->saved_bytes ? -1 : 1;
   if (x->site->id != y->site->id) return x->site->id < y->site->id ? -1 : 1;
   return (Int)x->kind - (Int)y->kind;
}

XArray* SH_(make_suggestions)(Site** sites, UInt n)
{
   XArray* out = VG_(newXA)(VG_(malloc), "sh.sugs", VG_(free), sizeof(Suggestion));
   UInt i;
   tl_assert(scratch == NULL);
   scratch = VG_(newXA)(VG_(malloc), "sh.sugs.scratch", VG_(free), sizeof(HChar*));
   note_fn_acts(sites, n);
   for (i = 0; i < n; i++) {
      Site* s = sites[i];
      suggest_stack(out, s);
      suggest_reserve(out, s);
      suggest_hoist(out, s);
      suggest_pool(out, s);
      suggest_remove_escape(out, s);
   }
   VG_(HT_destruct)(fn_acts, VG_(free));
   fn_acts = NULL;
   for (i = 0; i < VG_(sizeXA)(scratch); i++)
      VG_(free)(*(HChar**)VG_(indexXA)(scratch, i));
   VG_(deleteXA)(scratch);
   scratch = NULL;
   VG_(setCmpFnXA)(out, cmp_sugs);
   VG_(sortXA)(out);
   return out;
}

void SH_(free_suggestions)(XArray* sugs)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(sugs); i++)
      VG_(free)(((Suggestion*)VG_(indexXA)(sugs, i))->text);
   VG_(deleteXA)(sugs);
}

ULong SH_(site_calls_saved)(const Site* s, XArray* sugs)
{
   Word i;
   ULong n = 0;
   if (sugs == NULL) return 0;
   for (i = 0; i < VG_(sizeXA)(sugs); i++) {
      const Suggestion* g = VG_(indexXA)(sugs, i);
      if (g->site == s) n += g->saved_calls;
   }
   return n;
}
