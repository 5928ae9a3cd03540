/*--------------------------------------------------------------------*/
/*--- stackheap: severities and suggestions.           sh_advice.c ---*/
/*--------------------------------------------------------------------*/

/* Each suggestion kind has one precise trigger, documented in
   docs/manual.md ("Suggestions"); the constants below are those
   thresholds.  Suggestions are made per source location (the allocation
   call's line in the innermost non-allocator frame): the sites (call
   stacks) through one line are judged together, and a change to the
   allocation at a line is suggested only when every block allocated there
   qualifies for it.  Savings count allocator calls (an allocation and its
   free are two calls) and heap bytes no longer requested.  Stack cost is
   the bytes a change adds to one frame times the most simultaneous
   activations of that frame's function seen (recursion); a stack change
   that would cost more than --stack-budget is replaced by a pool. */

#include "pub_tool_hashtable.h"
#include "sh_global.h"

const HChar* const SH_(severity_name)[4] = { "low", "medium", "high", "critical" };
const HChar* const SH_(sug_kind_name)[SH_N_SUG_KINDS] = {
   "use_stack_allocation", "caller_owned_storage", "bounded_local_buffer",
   "reserve_capacity", "hoist_out_of_loop", "object_pool", "remove_escape",
   "split_paths"
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
/* caller_owned_storage: the most frames storage may be passed down
   through.  Past that (or through recursion) an extra parameter in every
   function on the way is not a reasonable edit: an arena owned by the
   home is offered instead. */
#define SH_MAX_PASS_DOWN_DEPTH   3
/* split_paths: the share of a line's blocks that must have been freed in
   the allocating function for the remark to be worth making. */
#define SH_MIN_SPLIT_PERMILLE    100
/* Paths and frees named in one sentence. */
#define SH_MAX_NAMED             3

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

/*------------------------------------------------------------*/
/*--- Locations: the sites through one source line         ---*/
/*------------------------------------------------------------*/

typedef struct {
   ShFrameDesc loc;      /* the line (fn, file, line) */
   Site** sites;         /* every site through it, hottest first */
   UInt   n;
   Site*  largest;       /* most bytes; ties: most blocks, lower id */
   /* sums over the sites */
   ULong  blocks, bytes, min_size, max_size;
   ULong  classes[SH_N_CLASSES], cls_bytes[SH_N_CLASSES];
   Bool   varied;        /* a site's blocks had several sizes */
   Bool   sizes_differ;  /* each site one size, but not the same one */
   ULong  const_size;
   ULong  frame_freed_in_callee;
   ULong  size_hist[SH_SIZE_BUCKETS], size_hist_bytes[SH_SIZE_BUCKETS];
   Bool   pooled;        /* an object_pool was already made for it */
} Loc;

typedef struct {
   HChar* key;           /* "file\0line\0fn" flattened with '\1' separators */
   ShFrameDesc loc;
   Site*  site;
} SiteLoc;

static Int cmp_site_locs(const void* a, const void* b)
{
   const SiteLoc* x = a;
   const SiteLoc* y = b;
   Int c = VG_(strcmp)(x->key, y->key);
   if (c != 0) return c;
   return x->site->id < y->site->id ? -1 : x->site->id > y->site->id ? 1 : 0;
}

/* A line is its file and number: a template's instantiations (and a
   function inlined in several places) are one edit.  Without debug info
   the function names it. */
static HChar* loc_key(const ShFrameDesc* d)
{
   HChar* k = VG_(malloc)("sh.advice.key", (d->file ? VG_(strlen)(d->file) : 0)
                          + VG_(strlen)(d->fn) + 32);
   if (d->file)
      VG_(sprintf)(k, "%s\1%u", d->file, d->line);
   else
      VG_(sprintf)(k, "\1%s", d->fn);
   return k;
}

static Bool same_line(const ShFrameDesc* a, const ShFrameDesc* b)
{
   if (a->file == NULL || b->file == NULL)
      return a->file == b->file && VG_(strcmp)(a->fn, b->fn) == 0;
   return a->line == b->line && VG_(strcmp)(a->file, b->file) == 0;
}

static void loc_add_site(Loc* L, Site* s)
{
   Int c;
   UInt b;
   if (L->n == 0 || s->bytes > L->largest->bytes
       || (s->bytes == L->largest->bytes && s->blocks > L->largest->blocks))
      L->largest = s;
   if (L->n == 0) { L->const_size = s->const_size; L->min_size = s->min_size; }
   else if (s->const_size != L->const_size) L->sizes_differ = True;
   if (s->varied_sizes) L->varied = True;
   L->sites[L->n++] = s;
   L->blocks += s->blocks;
   L->bytes += s->bytes;
   if (s->min_size < L->min_size) L->min_size = s->min_size;
   if (s->max_size > L->max_size) L->max_size = s->max_size;
   for (c = 0; c < SH_N_CLASSES; c++) {
      L->classes[c] += s->classes[c];
      L->cls_bytes[c] += s->cls_bytes[c];
   }
   L->frame_freed_in_callee += s->frame_freed_in_callee;
   for (b = 0; b < SH_SIZE_BUCKETS; b++) {
      L->size_hist[b] += s->size_hist[b];
      L->size_hist_bytes[b] += s->size_hist_bytes[b];
   }
}

/* The sites grouped by location; *n_out groups. */
static Loc* group_by_location(Site** sites, UInt n, /*OUT*/UInt* n_out)
{
   SiteLoc* sl = VG_(malloc)("sh.advice.sl", (n + 1) * sizeof(SiteLoc));
   Loc* locs = VG_(calloc)("sh.advice.locs", n + 1, sizeof(Loc));
   UInt i, k = 0;
   for (i = 0; i < n; i++) {
      SH_(describe_code_loc)(sites[i]->ips[0], &sl[i].loc);
      sl[i].key = loc_key(&sl[i].loc);
      sl[i].site = sites[i];
   }
   VG_(ssort)(sl, n, sizeof(SiteLoc), cmp_site_locs);
   for (i = 0; i < n; i++) {
      if (i == 0 || VG_(strcmp)(sl[i].key, sl[i - 1].key) != 0) {
         UInt j = i;
         Loc* L = &locs[k++];
         while (j < n && VG_(strcmp)(sl[j].key, sl[i].key) == 0) j++;
         L->loc = sl[i].loc;
         VG_(memset)(&sl[i].loc, 0, sizeof(ShFrameDesc));   /* moved */
         L->sites = VG_(malloc)("sh.advice.locsites", (j - i) * sizeof(Site*));
      }
      loc_add_site(&locs[k - 1], sl[i].site);
   }
   for (i = 0; i < n; i++) {
      SH_(clear_frame_desc)(&sl[i].loc);
      VG_(free)(sl[i].key);
   }
   VG_(free)(sl);
   *n_out = k;
   return locs;
}

static void free_locs(Loc* locs, UInt n)
{
   UInt i;
   for (i = 0; i < n; i++) {
      SH_(clear_frame_desc)(&locs[i].loc);
      VG_(free)(locs[i].sites);
   }
   VG_(free)(locs);
}

static void add(XArray* out, ShSugKind kind, const Loc* L, const HChar* text,
                ULong calls, ULong bytes, ULong stack, const HChar* difficulty)
{
   Suggestion g;
   UInt i;
   tl_assert(kind < SH_N_SUG_KINDS && L != NULL && L->largest != NULL && text != NULL
             && difficulty != NULL);
   g.kind = kind;
   g.site = L->largest;
   g.sites = VG_(newXA)(VG_(malloc), "sh.sug.sites", VG_(free), sizeof(Site*));
   for (i = 0; i < L->n; i++)
      VG_(addToXA)(g.sites, &L->sites[i]);
   g.loc.fn = VG_(strdup)("sh.sug.loc", L->loc.fn);
   g.loc.file = L->loc.file ? VG_(strdup)("sh.sug.loc", L->loc.file) : NULL;
   g.loc.line = L->loc.line;
   g.loc.obj = NULL;
   g.text = VG_(strdup)("sh.sug.text", text);
   g.saved_calls = calls;
   g.saved_bytes = bytes;
   g.stack_cost = stack;
   g.difficulty = difficulty;
   VG_(addToXA)(out, &g);
}

/* The memory pool every block at the line came from, or NULL (blocks
   of several pools, or of malloc). */
static const Site* one_pool(const Loc* L)
{
   UInt i;
   if (L->largest->pool_ip == 0 || L->largest->pool_mixed) return NULL;
   for (i = 0; i < L->n; i++)
      if (L->sites[i]->pool_ip != L->largest->pool_ip || L->sites[i]->pool_mixed)
         return NULL;
   return L->largest;
}

/* "fn (file:line)" of the allocating line; for blocks of one memory pool
   "fn (file:line) from the memory pool created at fn (file:line)": a
   stack-eligible pool block is still a local, and the text says which
   pool to take it out of. */
static void alloc_loc(const Loc* L, HChar* buf, Int n)
{
   const Site* p = one_pool(L);
   SH_(format_frame)(&L->loc, buf, n);
   if (p != NULL) {
      HChar* pool = SH_(pool_site_name_dup)(p);
      Int len = VG_(strlen)(buf);
      VG_(snprintf)(buf + len, n - len, " from %s", pool);
      VG_(free)(pool);
   }
}

/* A function's name for "name()" in a sentence: a demangled C++ name
   loses its parameter list (and a trailing " const"), so that the text
   reads "fill()" rather than "fill(int)()". */
static void strip_params(HChar* buf)
{
   Int len = VG_(strlen)(buf), depth = 0;
   if (len > 6 && VG_(strcmp)(buf + len - 6, " const") == 0) {
      len -= 6;
      buf[len] = '\0';
   }
   if (len < 2 || buf[len - 1] != ')') return;
   for (len = len - 1; len > 0; len--) {
      if (buf[len] == ')') depth++;
      else if (buf[len] == '(' && --depth == 0) break;
   }
   if (len > 0) buf[len] = '\0';
}

static void fn_of(Addr a, HChar* buf, Int n)
{
   SH_(fn_name)(a, buf, n);
   strip_params(buf);
}

/* The location's own function, as a sentence names it. */
static void loc_fn(const Loc* L, HChar* buf, Int n)
{
   VG_(snprintf)(buf, n, "%s", L->loc.fn);
   strip_params(buf);
}

/* 95th percentile from the power-of-two histogram: the smallest 2^k such
   that at least 95% of the blocks are smaller.  *under_bytes: the bytes
   of the blocks that fit. */
static ULong p95_bound(const Loc* L, /*OUT*/ULong* over, /*OUT*/ULong* under_bytes)
{
   ULong cum = 0, cum_bytes = 0;
   UInt b;
   for (b = 0; b < SH_SIZE_BUCKETS; b++) {
      cum += L->size_hist[b];
      cum_bytes += L->size_hist_bytes[b];
      if (cum * 100 >= L->blocks * 95) {
         *over = L->blocks - cum;
         *under_bytes = cum_bytes;
         return 1ULL << (b + 1);
      }
   }
   *over = 0;
   *under_bytes = L->bytes;
   return L->max_size;
}

static ULong loc_max_live(const Loc* L)
{
   ULong k = 0;
   UInt i;
   for (i = 0; i < L->n; i++) k += L->sites[i]->max_live;   /* an upper bound */
   return k ? k : 1;
}

/* A stack change over the budget becomes a pool of the most blocks
   alive at once. */
static void pool_instead(XArray* out, Loc* L, ULong eligible, ULong per_frame,
                         UInt activations, const HChar* what)
{
   HChar loc[512], text[1024];
   ULong keep = loc_max_live(L);
   alloc_loc(L, loc, sizeof loc);
   VG_(snprintf)(text, sizeof text,
      "%s at %s would need %'llu bytes of stack (%'llu bytes x %u simultaneous "
      "activations), over --stack-budget=%'llu: keep a pool or free list of %'llu "
      "block%s of %'llu bytes instead",
      what, loc, per_frame * activations, per_frame, activations,
      SH_(clo_stack_budget), keep, keep == 1 ? "" : "s", L->max_size);
   add(out, SH_SUG_POOL, L, text, eligible > keep ? 2 * (eligible - keep) : 0,
       eligible > keep ? (eligible - keep) * L->max_size : 0, 0, "medium");
   L->pooled = True;
}

/* The homes of a location's eligible blocks, merged over its sites by
   function (a caller's homes at different depths, as through recursion,
   are one home at the largest depth; depth 0 stays apart): *n_out of
   them, most blocks first. */
static Home* loc_homes(const Loc* L, /*OUT*/UInt* n_out)
{
   UInt i, n = 0, cap = 0;
   Word j;
   Home* hs;
   for (i = 0; i < L->n; i++) cap += VG_(sizeXA)(L->sites[i]->homes);
   hs = VG_(malloc)("sh.advice.homes", (cap + 1) * sizeof(Home));
   for (i = 0; i < L->n; i++) {
      for (j = 0; j < VG_(sizeXA)(L->sites[i]->homes); j++) {
         const Home* h = VG_(indexXA)(L->sites[i]->homes, j);
         UInt k;
         /* depth 0 is the allocating function whatever the shadow frame's
            entry (a tail-called allocating function shares its caller's) */
         for (k = 0; k < n; k++)
            if ((hs[k].depth == 0 && h->depth == 0)
                || (hs[k].depth > 0 && h->depth > 0 && hs[k].fn == h->fn)) break;
         if (k == n) { hs[n] = *h; hs[n].blocks = 0; n++; }
         if (h->depth > hs[k].depth) hs[k].depth = h->depth;
         hs[k].blocks += h->blocks;
         if (h->max_activations > hs[k].max_activations)
            hs[k].max_activations = h->max_activations;
         if (hs[k].pin == SH_PIN_NONE) { hs[k].pin = h->pin; hs[k].pin_ip = h->pin_ip; }
      }
   }
   /* most blocks first, then shallower (selection sort: a handful) */
   for (i = 0; i < n; i++) {
      UInt k, best = i;
      for (k = i + 1; k < n; k++)
         if (hs[k].blocks > hs[best].blocks
             || (hs[k].blocks == hs[best].blocks && hs[k].depth < hs[best].depth))
            best = k;
      if (best != i) { Home t = hs[i]; hs[i] = hs[best]; hs[best] = t; }
   }
   *n_out = n;
   return hs;
}

/* Why a home above the allocating function is where it is, as words. */
static void pin_words(const Home* h, const Loc* L, HChar* buf, Int n)
{
   HChar at[256], home[256], fn[256];
   buf[0] = '\0';
   if (h->pin == SH_PIN_NONE || h->depth == 0) return;
   SH_(code_loc)(h->pin_ip, at, sizeof at);
   fn_of(h->fn, home, sizeof home);
   loc_fn(L, fn, sizeof fn);
   if (h->pin == SH_PIN_STORE)
      VG_(snprintf)(buf, n, "the home is %s() because the store at %s put the block's "
                    "address into a local of %s()", home, at, home);
   else
      VG_(snprintf)(buf, n, "the home is %s() because the block is freed at %s, after "
                    "%s() returned", home, at, fn);
}

/* Frees of the location's blocks outside its own function: the ones a
   local array would need removed.  Appends "X (n), Y (m)" to buf. */
static UInt frees_elsewhere(const Loc* L, HChar* buf, Int n)
{
   UInt i, named = 0, len = VG_(strlen)(buf);
   Word j;
   for (i = 0; i < L->n; i++) {
      const Site* s = L->sites[i];
      if (s->free_ips == NULL) continue;
      for (j = 0; j < VG_(sizeXA)(s->free_ips); j++) {
         const FreeIp* f = VG_(indexXA)(s->free_ips, j);
         ShFrameDesc d;
         SH_(describe_code_loc)(f->ip, &d);
         if (VG_(strcmp)(d.fn, L->loc.fn) != 0 && named < SH_MAX_NAMED
             && len + 80 < (UInt)n) {
            HChar w[256];
            SH_(format_frame)(&d, w, sizeof w);
            len += VG_(snprintf)(buf + len, n - len, "%s%s", named ? ", " : "", w);
            named++;
         }
         SH_(clear_frame_desc)(&d);
      }
   }
   return named;
}

/* "via a() <- b()": the callers of a site's allocating function. */
static void path_words(const Site* s, HChar* buf, Int n)
{
   HChar fn[256];
   UInt i, len = 0;
   buf[0] = '\0';
   for (i = 1; i < s->n_ips && i <= 2; i++) {
      fn_of(s->ips[i], fn, sizeof fn);
      len += VG_(snprintf)(buf + len, n - len, "%s%s()", i == 1 ? "via " : " <- ", fn);
   }
   if (len == 0) VG_(snprintf)(buf, n, "on its only call path");
}

/* What keeps a site's blocks that a local array in the allocating
   function could not hold: the commonest such reason, as words. */
static void keeper_words(const Site* s, const Loc* L, HChar* buf, Int n)
{
   HChar path[300], fn[256], what[512];
   ULong worst_n = 0, depth0 = 0;
   Int c, worst = -1;
   Word j;
   path_words(s, path, sizeof path);
   loc_fn(L, fn, sizeof fn);
   for (c = 0; c < SH_CLASS_FRAME; c++)
      if (s->classes[c] > worst_n) { worst_n = s->classes[c]; worst = c; }
   for (j = 0; j < VG_(sizeXA)(s->homes); j++) {
      const Home* h = VG_(indexXA)(s->homes, j);
      if (h->depth == 0) depth0 += h->blocks;
   }
   if (worst < 0 || s->classes[SH_CLASS_CALLER] > worst_n) {
      /* kept by a caller: name the deepest home above depth 0 */
      const Home* best = NULL;
      HChar home[256], pin[512];
      for (j = 0; j < VG_(sizeXA)(s->homes); j++) {
         const Home* h = VG_(indexXA)(s->homes, j);
         if (h->depth > 0 && (best == NULL || h->blocks > best->blocks)) best = h;
      }
      if (best == NULL) { buf[0] = '\0'; return; }
      fn_of(best->fn, home, sizeof home);
      pin_words(best, L, pin, sizeof pin);
      VG_(snprintf)(what, sizeof what, "%'llu block%s live on in %s() after %s() returns%s%s",
                    best->blocks, best->blocks == 1 ? "" : "s", home, fn,
                    pin[0] ? " (" : "", pin);
      VG_(snprintf)(buf, n, "%s %s%s", path, what, pin[0] ? ")" : "");
      return;
   }
   switch (worst) {
   case SH_CLASS_OUTLIVED: {
      /* returned all the way out: name the commonest free */
      HChar at[256] = "";
      if (s->free_ips != NULL && VG_(sizeXA)(s->free_ips) > 0) {
         const FreeIp* best = NULL;
         for (j = 0; j < VG_(sizeXA)(s->free_ips); j++) {
            const FreeIp* f = VG_(indexXA)(s->free_ips, j);
            if (best == NULL || f->blocks > best->blocks) best = f;
         }
         SH_(code_loc)(best->ip, at, sizeof at);
      }
      VG_(snprintf)(what, sizeof what, "%'llu block%s are returned out of %s() and outlive "
                    "its callers%s%s", worst_n, worst_n == 1 ? "" : "s", fn,
                    at[0] ? ", freed at " : "", at);
      break;
   }
   case SH_CLASS_NEVER_FREED:
      VG_(snprintf)(what, sizeof what, "%'llu block%s are never freed", worst_n,
                    worst_n == 1 ? "" : "s");
      break;
   case SH_CLASS_TOO_LARGE:
      VG_(snprintf)(what, sizeof what, "%'llu block%s are larger than --max-stack-block",
                    worst_n, worst_n == 1 ? "" : "s");
      break;
   default:
      if (s->first_escape.valid) {
         HChar at[256];
         SH_(code_loc)(s->first_escape.store_ip, at, sizeof at);
         VG_(snprintf)(what, sizeof what, "%'llu block%s are stored at %s into %s", worst_n,
                       worst_n == 1 ? "" : "s", at, s->first_escape.target);
      } else {
         VG_(snprintf)(what, sizeof what, "%'llu block%s are %s", worst_n,
                       worst_n == 1 ? "" : "s", SH_(class_name)[worst]);
      }
   }
   (void)depth0;
   VG_(snprintf)(buf, n, "%s %s", path, what);
}

/* Some of a line's blocks could be a local of its function and others
   not: say which paths keep the block, never a rewrite. */
static void suggest_split(XArray* out, Loc* L, ULong local_blocks, const Home* h0)
{
   HChar loc[512], fn[256], text[1400], why[600];
   UInt i, named = 0, len;
   ULong buf = L->varied ? L->max_size : L->const_size;
   UInt acts = h0 ? max_activations(h0) : 1;
   if (!at_least_permille(local_blocks, L->blocks, SH_MIN_SPLIT_PERMILLE)) return;
   alloc_loc(L, loc, sizeof loc);
   loc_fn(L, fn, sizeof fn);
   len = VG_(snprintf)(text, sizeof text,
      "%'llu of %'llu blocks allocated at %s could have been a local of %s(), but not on "
      "every path: ", local_blocks, L->blocks, loc, fn);
   {
      /* each path once: sites that differ only below the two callers named
         are the same path to a reader */
      HChar paths[SH_MAX_NAMED][300];
      ULong more_blocks = 0;
      UInt more_sites = 0;
      for (i = 0; i < L->n; i++) {
         const Site* s = L->sites[i];
         ULong local = 0;
         HChar path[300];
         UInt k;
         Word j;
         for (j = 0; j < VG_(sizeXA)(s->homes); j++) {
            const Home* h = VG_(indexXA)(s->homes, j);
            if (h->depth == 0) local += h->blocks;
         }
         if (local >= s->blocks) continue;
         path_words(s, path, sizeof path);
         for (k = 0; k < named; k++)
            if (VG_(strcmp)(paths[k], path) == 0) break;
         if (k < named || named == SH_MAX_NAMED) {
            more_blocks += s->blocks - local;
            more_sites++;
            continue;
         }
         keeper_words(s, L, why, sizeof why);
         if (why[0] == '\0') continue;
         VG_(strcpy)(paths[named], path);
         len += VG_(snprintf)(text + len, sizeof text - len, "%s%s", named ? "; " : "", why);
         named++;
      }
      if (more_sites > 0 && named > 0)
         len += VG_(snprintf)(text + len, sizeof text - len,
                              "; and %'llu more block%s on %u more call stack%s", more_blocks,
                              more_blocks == 1 ? "" : "s", more_sites,
                              more_sites == 1 ? "" : "s");
   }
   if (named == 0) return;   /* nothing to name: no remark */
   VG_(snprintf)(text + len, sizeof text - len,
      ". A local array would be right only if those paths stopped keeping the block "
      "(copy the data out before %s() returns, or take storage from the caller)", fn);
   add(out, SH_SUG_SPLIT_PATHS, L, text, 2 * local_blocks, L->cls_bytes[SH_CLASS_FRAME],
       buf * acts, "hard");
}

/* Passing storage down from a home at depth >= 1: not through recursion
   or more than SH_MAX_PASS_DOWN_DEPTH frames.  *why gets the reason. */
static Bool pass_down_reasonable(const Loc* L, const Home* h, HChar* why, Int n)
{
   UInt i, a, b, top;
   HChar fa[256], fb[256];
   /* recursion first: it is the stronger reason */
   for (i = 0; i < L->n; i++) {
      const Site* s = L->sites[i];
      top = (UInt)h->depth < s->n_ips ? (UInt)h->depth : s->n_ips - 1;
      for (a = 0; a <= top; a++) {
         /* full names: C++ overloads are different functions */
         SH_(fn_name)(s->ips[a], fa, sizeof fa);
         for (b = a + 1; b <= top; b++) {
            SH_(fn_name)(s->ips[b], fb, sizeof fb);
            if (VG_(strcmp)(fa, fb) == 0) {
               strip_params(fa);
               VG_(snprintf)(why, n, "the path down from the home goes through the "
                             "recursive %s(), so no fixed set of locals can hold them", fa);
               return False;
            }
         }
      }
   }
   if (max_activations(h) > 1) {
      fn_of(h->fn, fa, sizeof fa);
      VG_(snprintf)(why, n, "%s() is recursive (%u activations at once)", fa,
                    max_activations(h));
      return False;
   }
   if (h->depth > SH_MAX_PASS_DOWN_DEPTH) {
      VG_(snprintf)(why, n, "passing storage down through %d functions is not a reasonable "
                    "edit (limit %d)", h->depth, SH_MAX_PASS_DOWN_DEPTH);
      return False;
   }
   for (i = 0; i < L->n; i++)
      if ((UInt)h->depth >= L->sites[i]->n_ips) {
         VG_(snprintf)(why, n, "the path down from the home is longer than --depth");
         return False;
      }
   return True;
}

/* The blocks live until a far or recursive home: one arena owned there. */
static void arena_instead(XArray* out, Loc* L, const Home* h, ULong elig, const HChar* why)
{
   HChar loc[512], home[256], pin[600], text[1400];
   alloc_loc(L, loc, sizeof loc);
   fn_of(h->fn, home, sizeof home);
   pin_words(h, L, pin, sizeof pin);
   VG_(snprintf)(text, sizeof text,
      "%'llu of %'llu blocks allocated at %s live until %s() (depth %d) returns, but %s: "
      "let %s() own an arena (or a pool) the blocks are carved from, released at once "
      "when it returns%s%s",
      elig, L->blocks, loc, home, h->depth, why, home, pin[0] ? "; " : "", pin);
   add(out, SH_SUG_POOL, L, text, elig, 0, 0, "medium");
   L->pooled = True;
}

static void suggest_stack(XArray* out, Loc* L)
{
   ULong frame = L->classes[SH_CLASS_FRAME], caller = L->classes[SH_CLASS_CALLER];
   ULong elig = frame + caller, local_blocks = 0;
   UInt n_homes, acts, i;
   Home* homes;
   const Home* h;
   HChar loc[512], home_fn[256], alloc_fn[256], text[1400], why[600];
   ULong buf, cost, over, under_bytes, saved_bytes;

   if (elig == 0) return;
   homes = loc_homes(L, &n_homes);
   for (i = 0; i < n_homes; i++)
      if (homes[i].depth == 0) local_blocks += homes[i].blocks;
   /* Valid on every observed path: every block eligible, with one home. */
   if (elig < L->blocks || n_homes != 1) {
      suggest_split(out, L, local_blocks, n_homes ? &homes[0] : NULL);
      VG_(free)(homes);
      return;
   }
   h = &homes[0];
   acts = max_activations(h);
   alloc_loc(L, loc, sizeof loc);
   fn_of(h->fn, home_fn, sizeof home_fn);
   loc_fn(L, alloc_fn, sizeof alloc_fn);

   if (h->depth >= 1 && !pass_down_reasonable(L, h, why, sizeof why)) {
      arena_instead(out, L, h, elig, why);
      VG_(free)(homes);
      return;
   }

   if (L->varied) {
      /* bounded_local_buffer */
      ULong p95 = p95_bound(L, &over, &under_bytes);
      saved_bytes = L->cls_bytes[SH_CLASS_FRAME] + L->cls_bytes[SH_CLASS_CALLER];
      if (L->max_size > SH_PERCENTILE_FACTOR * p95 && over > 0) {
         buf = p95;
         /* The fallback blocks are still malloc'd: only the ones that fit
            in the buffer are saved. */
         if (under_bytes < saved_bytes) saved_bytes = under_bytes;
         VG_(snprintf)(text, sizeof text,
            "sizes at %s vary from %'llu to %'llu bytes: a %'llu-byte local buffer in "
            "%s() covers %'llu of %'llu blocks (95th percentile); fall back to malloc "
            "for the other %'llu (%llu.%llu%%)",
            loc, L->min_size, L->max_size, buf, home_fn, L->blocks - over, L->blocks,
            over, (over * 1000 / L->blocks) / 10, (over * 1000 / L->blocks) % 10);
      } else {
         buf = L->max_size;
         VG_(snprintf)(text, sizeof text,
            "sizes at %s vary from %'llu to %'llu bytes, and %'llu of %'llu blocks could "
            "have lived in %s() (depth %d): use a fixed %'llu-byte local buffer there",
            loc, L->min_size, L->max_size, elig, L->blocks, home_fn, h->depth, buf);
         if (h->depth > 0) {
            HChar pin[600];
            UInt len = VG_(strlen)(text);
            pin_words(h, L, pin, sizeof pin);
            if (pin[0]) VG_(snprintf)(text + len, sizeof text - len, "; %s", pin);
         }
      }
      cost = buf * acts;
      if (cost > SH_(clo_stack_budget)) {
         pool_instead(out, L, elig, buf, acts, "a local buffer");
         VG_(free)(homes);
         return;
      }
      add(out, SH_SUG_BOUNDED_BUFFER, L, text,
          2 * (elig - (buf < L->max_size ? over : 0)), saved_bytes, cost, "medium");
      VG_(free)(homes);
      return;
   }

   /* each path one size: a local of the largest serves them all */
   buf = L->max_size;
   cost = buf * acts;
   if (cost > SH_(clo_stack_budget)) {
      pool_instead(out, L, elig, buf, acts, h->depth == 0 ? "a local variable"
                                                          : "caller-owned storage");
      VG_(free)(homes);
      return;
   }
   if (h->depth == 0) {
      /* Easy only when every free is the function's own: a free in a
         callee (or a tail-called free) would have to go too. */
      HChar frees[600] = "";
      Bool easy = L->frame_freed_in_callee == 0;
      UInt len;
      if (L->sizes_differ)
         len = VG_(snprintf)(text, sizeof text,
            "in %s() replace the %s block allocated at %s (%'llu to %'llu bytes over %u "
            "call paths) with a %'llu-byte local array, sized for the largest seen (a size "
            "computed at run time needs a check against it): %'llu of %'llu blocks were "
            "freed before %s() returned and their address never left its frame",
            alloc_fn, L->largest->pool_ip ? "pool" : "heap", loc, L->min_size, L->max_size,
            L->n, buf, frame, L->blocks, alloc_fn);
      else
         len = VG_(snprintf)(text, sizeof text,
            "in %s() replace the %'llu-byte %s block allocated at %s with a local "
            "variable or array: %'llu of %'llu blocks were freed before %s() returned "
            "and their address never left its frame",
            alloc_fn, buf, L->largest->pool_ip ? "pool" : "heap", loc, frame, L->blocks,
            alloc_fn);
      if (!easy) {
         frees_elsewhere(L, frees, sizeof frees);
         VG_(snprintf)(text + len, sizeof text - len,
            "; %'llu of them are freed by a function it calls, so %s must go too",
            L->frame_freed_in_callee, frees[0] ? frees : "those frees");
      }
      add(out, SH_SUG_USE_STACK, L, text, 2 * frame, L->cls_bytes[SH_CLASS_FRAME],
          cost, easy ? "easy" : "medium");
   } else {
      HChar pin[600];
      UInt len;
      pin_words(h, L, pin, sizeof pin);
      len = VG_(snprintf)(text, sizeof text,
         "%s() allocates %'llu bytes at %s that its caller %s() (depth %d) always "
         "outlives: let %s() own a %'llu-byte local and pass it down, or return the "
         "value by struct (%'llu of %'llu blocks)",
         alloc_fn, buf, loc, home_fn, h->depth, home_fn, buf, elig, L->blocks);
      if (pin[0])
         VG_(snprintf)(text + len, sizeof text - len, "; %s", pin);
      add(out, SH_SUG_CALLER_OWNED, L, text, 2 * elig,
          L->cls_bytes[SH_CLASS_FRAME] + L->cls_bytes[SH_CLASS_CALLER], cost, "medium");
   }
   VG_(free)(homes);
}

static void suggest_reserve(XArray* out, Loc* L)
{
   HChar loc[512], text[1024];
   ULong calls = 0, bytes = 0, copy = 0;
   const Site* best = NULL;
   UInt i;
   for (i = 0; i < L->n; i++) {
      const Site* s = L->sites[i];
      if (best == NULL || s->max_growth_chain > best->max_growth_chain) best = s;
      /* A realloc step is one call; an allocate-copy-free step is two. */
      calls += (s->growth_steps - s->growth_copy_steps) + 2 * s->growth_copy_steps;
      bytes += s->growth_bytes;
      copy += s->growth_copy_steps;
   }
   if (best == NULL || best->max_growth_chain < SH_MIN_GROWTH_CHAIN) return;
   alloc_loc(L, loc, sizeof loc);
   VG_(snprintf)(text, sizeof text,
      "a buffer allocated at %s grew %'llu times, from %'llu to %'llu bytes%s: reserve "
      "%'llu bytes up front (one allocation of the final size, or reserve() for a "
      "container)",
      loc, best->max_growth_chain, best->chain_first_size, best->chain_last_size,
      copy ? " (allocate, copy, free)" : " (realloc)", best->chain_last_size);
   add(out, SH_SUG_RESERVE, L, text, calls, bytes, 0, "easy");
}

static void suggest_hoist(XArray* out, Loc* L)
{
   HChar loc[512], fn[256], text[1024];
   ULong reuse = 0;
   UInt run = 0, i;
   for (i = 0; i < L->n; i++) {
      reuse += L->sites[i]->reuse_blocks;
      if (L->sites[i]->max_reuse_run > run) run = L->sites[i]->max_reuse_run;
   }
   /* Every block at the line must be its function's own (a hoisted block
      is one local), and most must be reuses. */
   if (run < SH_MIN_REUSE_RUN || L->classes[SH_CLASS_FRAME] < L->blocks
       || !at_least_permille(reuse, L->blocks, SH_MIN_REUSE_PERMILLE))
      return;
   alloc_loc(L, loc, sizeof loc);
   loc_fn(L, fn, sizeof fn);
   VG_(snprintf)(text, sizeof text,
      "%s() allocates and frees at %s again and again in one call (up to %u times, "
      "never two alive at once; %'llu of %'llu blocks): allocate once before the loop "
      "and reuse the block",
      fn, loc, run + 1, reuse, L->blocks);
   add(out, SH_SUG_HOIST, L, text, 2 * reuse,
       L->blocks ? L->bytes / L->blocks * reuse : 0, 0, "easy");
}

static void suggest_pool(XArray* out, Loc* L)
{
   HChar loc[512], text[1024];
   ULong keep = loc_max_live(L), escaped_freed = 0;
   UInt i;
   if (L->pooled) return;
   /* Blocks of a memory pool are pooled already. */
   for (i = 0; i < L->n; i++)
      if (L->sites[i]->pool_ip != 0) return;
   for (i = 0; i < L->n; i++) escaped_freed += L->sites[i]->escaped_freed;
   if (L->varied || L->sizes_differ || L->blocks < SH_POOL_MIN_BLOCKS || keep > SH_POOL_MAX_LIVE
       || !at_least_permille(escaped_freed, L->blocks, SH_NEARLY_ALL_PERMILLE)
       || L->blocks < SH_POOL_MIN_CHURN * keep)
      return;
   alloc_loc(L, loc, sizeof loc);
   VG_(snprintf)(text, sizeof text,
      "%'llu blocks of %'llu bytes allocated at %s escape the stack but at most %'llu "
      "%s alive at once: keep a pool or free list of %'llu object%s",
      L->blocks, L->const_size, loc, keep, keep == 1 ? "is" : "are", keep,
      keep == 1 ? "" : "s");
   add(out, SH_SUG_POOL, L, text, 2 * (L->blocks - keep), (L->blocks - keep) * L->const_size,
       0, "medium");
}

/* remove_escape: the one store (by source line) through which most of
   the line's blocks escape, when without it they would be eligible.  Not
   for the links a structure needs: a store linking blocks of the same
   line to each other (a list's or a tree's own links), or into a holder
   that was still live when (nearly all) the blocks were freed (a node's
   name string: the node held it for its whole life). */
static void suggest_remove_escape(XArray* out, Loc* L)
{
   HChar loc[512], store[256], home_fn[256], text[1024];
   const HChar* into;
   const Site* best = NULL;
   ShFrameDesc best_store;
   ULong blocks = 0, max_size = 0;
   UInt i, j;
   const FnActs* f;
   UInt acts;
   ULong cost;
   Bool over;
   VG_(memset)(&best_store, 0, sizeof best_store);
   /* the store line with most blocks, summed over the sites */
   for (i = 0; i < L->n; i++) {
      const Site* s = L->sites[i];
      ShFrameDesc d;
      ULong sum = 0, msz = 0;
      if (s->sole_escape_blocks == 0) continue;
      /* a holder that outlived the blocks held them as part of itself */
      if (s->sole_escape_cls == SH_CLASS_HEAP
          && at_least_permille(s->sole_escape_held, s->sole_escape_blocks,
                               SH_NEARLY_ALL_PERMILLE))
         continue;
      if (s->sole_escape_cls == SH_CLASS_HEAP && s->sole_escape_dest_ip != 0) {
         ShFrameDesc dd;
         Bool own;
         SH_(describe_code_loc)(s->sole_escape_dest_ip, &dd);
         own = same_line(&dd, &L->loc);
         SH_(clear_frame_desc)(&dd);
         if (own) continue;
      }
      SH_(describe_code_loc)(s->sole_escape_ip, &d);
      for (j = 0; j < L->n; j++) {
         const Site* t = L->sites[j];
         ShFrameDesc e;
         if (t->sole_escape_blocks == 0) continue;
         SH_(describe_code_loc)(t->sole_escape_ip, &e);
         if (same_line(&d, &e)) {
            sum += t->sole_escape_blocks;
            if (t->sole_escape_max_size > msz) msz = t->sole_escape_max_size;
         }
         SH_(clear_frame_desc)(&e);
      }
      if (sum > blocks) {
         SH_(clear_frame_desc)(&best_store);
         best_store = d;
         best = s;
         blocks = sum;
         max_size = msz;
      } else {
         SH_(clear_frame_desc)(&d);
      }
   }
   if (best == NULL || !at_least_permille(blocks, L->blocks, SH_MIN_SOLE_ESCAPE_PERMILLE)) {
      SH_(clear_frame_desc)(&best_store);
      return;
   }
   alloc_loc(L, loc, sizeof loc);
   SH_(format_frame)(&best_store, store, sizeof store);
   SH_(clear_frame_desc)(&best_store);
   fn_of(best->sole_escape_home_fn, home_fn, sizeof home_fn);
   into = best->sole_escape_cls == SH_CLASS_GLOBAL ? "a global or static"
        : best->sole_escape_cls == SH_CLASS_THREAD ? "another thread's reach"
        : "another heap block";
   if (best->first_escape.valid && best->first_escape.store_ip == best->sole_escape_ip)
      into = best->first_escape.target;
   /* The stack the block would then take, paid by every activation. */
   f = VG_(HT_lookup)(fn_acts, best->sole_escape_home_fn);
   acts = (f != NULL && f->max_activations > 0) ? f->max_activations : 1;
   cost = max_size * acts;
   over = cost > SH_(clo_stack_budget);
   VG_(snprintf)(text, sizeof text,
      "%'llu of %'llu blocks allocated at %s escape only through the store at %s into %s; "
      "without it they could have lived in %s() (depth %d)%s",
      blocks, L->blocks, loc, store, into, home_fn, best->sole_escape_depth,
      over ? ", though as locals they would exceed --stack-budget: pool them instead" : "");
   add(out, SH_SUG_REMOVE_ESCAPE, L, text, 2 * blocks,
       blocks * (L->blocks ? L->bytes / L->blocks : 0),
       over ? 0 : cost, best->sole_escape_cls == SH_CLASS_HEAP ? "medium" : "hard");
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
   UInt i, n_locs;
   Loc* locs;
   note_fn_acts(sites, n);
   locs = group_by_location(sites, n, &n_locs);
   for (i = 0; i < n_locs; i++) {
      Loc* L = &locs[i];
      suggest_stack(out, L);
      suggest_reserve(out, L);
      suggest_hoist(out, L);
      suggest_pool(out, L);
      suggest_remove_escape(out, L);
   }
   free_locs(locs, n_locs);
   VG_(HT_destruct)(fn_acts, VG_(free));
   fn_acts = NULL;
   VG_(setCmpFnXA)(out, cmp_sugs);
   VG_(sortXA)(out);
   return out;
}

void SH_(free_suggestions)(XArray* sugs)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(sugs); i++) {
      Suggestion* g = VG_(indexXA)(sugs, i);
      VG_(free)(g->text);
      VG_(deleteXA)(g->sites);
      SH_(clear_frame_desc)(&g->loc);
   }
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
