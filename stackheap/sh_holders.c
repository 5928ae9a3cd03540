/*--------------------------------------------------------------------*/
/*--- stackheap: blocks held by other blocks.        sh_holders.c  ---*/
/*--------------------------------------------------------------------*/

/* A block's address stored into another live heap block (its holder) is
   not an escape by itself: the block inherits the holder's fate.  It can
   live in a frame only if every block that ever held it can live there or
   in a frame that one encloses; its home is the outermost of its own home
   and its holders' homes (both were live at the store, so both homes lay
   on one chain of active frames: the outer one has the smaller index).

   The graph: a block gets a node (HNode) when it holds or is held.  A
   node records up to SH_HOLDERS_MAX holders: SH_HOLDERS_INLINE in the node,
   the rest in an array allocated for the few blocks that need it (more:
   the block falls back to `heap`, counted in holders_overflowed).  When a block is freed its
   verdict waits ("pending", the Block kept detached from the live set)
   until no live block is reachable through its holders; then the pending
   blocks reachable from it are judged together, strongly connected groups
   (cycles: back-pointers, doubly linked lists) sharing one fate.  A pending
   block waits on one live node it reaches; that node's free wakes it.
   Pending blocks are capped (SH_PENDING_CAP): past it a freed block is
   judged `heap` at once and counted in holders_overflowed.  At exit every
   live block is never freed, which settles everything still pending.

   Verdicts are made in the order of program events and holder stores, so
   reports do not depend on addresses. */

#include "pub_tool_poolalloc.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"

#define SH_HOLDERS_INLINE 4        /* holders kept in the node */
#define SH_HOLDERS_MAX    32       /* holders kept per block at most */
#define SH_PENDING_CAP (1 << 16)   /* freed blocks waiting on holders */

typedef enum { HN_LIVE = 0, HN_PENDING, HN_DONE } HnState;

typedef struct _HNode HNode;
struct _HNode {
   Block*  block;        /* live or pending; NULL once judged */
   Site*   site;         /* kept for the chains of the blocks it held */
   UInt    refs;         /* its block, holder entries, waiter lists, the queue */
   UChar   state;        /* HnState */
   UChar   n_holders;
   UChar   cap;          /* room in holders[] */
   Bool    good;         /* done: frame or caller */
   Bool    parked;       /* pending and detached from the live set */
   Bool    on_stack;     /* scratch (group search) */
   Bool    hold_ip_multi;
   Addr    hold_ip;      /* where its address was stored into holders */
   ShHome  home;         /* done and good: its home; before: outermost home
                            of holders already dropped from holders[] */
   ShWhy   why;          /* why it cannot live on the stack (when known) */
   HNode** holders;      /* holders_in, or a SH_HOLDERS_MAX array */
   HNode*  holders_in[SH_HOLDERS_INLINE];
   HNode*  waiting_on;   /* pending: the live node it waits for */
   HNode*  next_waiter;
   HNode*  waiters;      /* pending nodes waiting on this one, in order */
   HNode*  waiters_tail;
   HNode*  pend_prev;    /* the pending list, in order of freeing */
   HNode*  pend_next;
   ShOwn   own;          /* pending: its own verdict at free */
   UInt    mark;         /* scratch: search generation */
   Int     t_index, t_low;   /* scratch: Tarjan */
};

ULong SH_(holders_overflowed) = 0;
ULong SH_(n_pending) = 0, SH_(max_pending) = 0;

static PoolAlloc* node_pool;
static HNode* pend_head;
static HNode* pend_tail;
static XArray* queue;      /* of HNode*: woken pending nodes, FIFO */
static Word    queue_head;
static XArray* scratch_r;  /* of HNode*: a group being searched */
static XArray* scratch_s;  /* of HNode*: search / Tarjan stack */
static XArray* scratch_f;  /* of TFrame: Tarjan call stack */
static XArray* scratch_g;  /* of HNode*: one strongly connected group */
static UInt    gen;

typedef struct { HNode* n; Int i; } TFrame;

static void init_once(void)
{
   if (node_pool != NULL) return;
   node_pool = VG_(newPA)(sizeof(HNode), 1000, VG_(malloc), "sh.hnode", VG_(free));
   queue = VG_(newXA)(VG_(malloc), "sh.hqueue", VG_(free), sizeof(HNode*));
   scratch_r = VG_(newXA)(VG_(malloc), "sh.hr", VG_(free), sizeof(HNode*));
   scratch_s = VG_(newXA)(VG_(malloc), "sh.hs", VG_(free), sizeof(HNode*));
   scratch_f = VG_(newXA)(VG_(malloc), "sh.hf", VG_(free), sizeof(TFrame));
   scratch_g = VG_(newXA)(VG_(malloc), "sh.hg", VG_(free), sizeof(HNode*));
}

static HNode* node_of(Block* b)
{
   HNode* n = SH_(block_hn)(b);
   if (n != NULL) return n;
   init_once();
   n = VG_(allocEltPA)(node_pool);
   VG_(memset)(n, 0, sizeof *n);
   n->block = b;
   n->site = b->site;
   n->refs = 1;
   n->home.idx = -1;
   n->holders = n->holders_in;
   n->cap = SH_HOLDERS_INLINE;
   SH_(bx_make)(b)->hn = n;
   return n;
}

static void unref(HNode* n)
{
   tl_assert(n->refs > 0);
   if (--n->refs > 0) return;
   tl_assert(n->state == HN_DONE && n->block == NULL && n->waiters == NULL);
   VG_(freeEltPA)(node_pool, n);
}

static void outer_home(ShHome* acc, const ShHome* h)
{
   if (h->idx < 0) return;
   if (acc->idx < 0 || h->idx < acc->idx) *acc = *h;
}

static Bool is_eligible(UChar cls)
{
   return cls == SH_CLASS_FRAME || cls == SH_CLASS_CALLER;
}

/*------------------------------------------------------------*/
/*--- Why a block cannot live on the stack                 ---*/
/*------------------------------------------------------------*/

/* From a block's own escapes (global, thread, certain heap). */
static void why_of_escape(const Block* b, /*OUT*/ShWhy* w)
{
   VG_(memset)(w, 0, sizeof *w);
   switch (b->escape) {
   /* (a global or thread escape made its side record) */
   case SH_ESC_GLOBAL: w->kind = SH_WHY_GLOBAL; w->dest = SH_(bx)(b)->esc_dest; break;
   case SH_ESC_THREAD:
      w->kind = SH_(bx)(b)->esc_other == 0 ? SH_WHY_THREAD_HANDOFF : SH_WHY_THREAD_STACK;
      w->other = SH_(bx)(b)->esc_other;
      break;
   case SH_ESC_HEAP: {
      const HNode* n = SH_(block_hn)(b);
      if (n != NULL && n->why.kind != SH_WHY_NONE) *w = n->why;
      else w->kind = SH_WHY_HEAP;
      break;
   }
   default: break;
   }
}

/* "Held by a block of site via, which could not move because vw". */
static void why_held(/*OUT*/ShWhy* w, Site* via, const ShWhy* vw)
{
   VG_(memset)(w, 0, sizeof *w);
   w->kind = SH_WHY_HEAP;
   w->via = via;
   w->via_kind = vw->kind;
   w->via_dest = vw->dest;
   w->via_other = vw->other;
}

/* d, live, certainly cannot hold b on the stack: say why. */
static Bool certainly_off_stack(const Block* b, const Block* d, /*OUT*/ShWhy* w)
{
   VG_(memset)(w, 0, sizeof *w);
   if (!d->counted || d->site == NULL || d->alloc_idx < 0) {
      w->kind = SH_WHY_UNTRACKED;
      return True;
   }
   if (d->escape != SH_ESC_NONE) { why_of_escape(d, w); return True; }
   if (d->tid != b->tid) { w->kind = SH_WHY_OTHER_THREAD; w->other = d->tid; return True; }
   if (SH_(too_large)(d)) { w->kind = SH_WHY_TOO_LARGE; return True; }
   return False;
}

static void clause(UChar kind, Addr dest, ThreadId other, HChar* buf, Int n)
{
   HChar* what;
   switch (kind) {
   case SH_WHY_GLOBAL:
      what = SH_(describe_data_addr)(dest);
      VG_(snprintf)(buf, n, "was stored in %s", what);
      VG_(free)(what);
      break;
   case SH_WHY_THREAD_STACK:
      VG_(snprintf)(buf, n, "was stored on the stack of thread %u", other); break;
   case SH_WHY_THREAD_HANDOFF:
      VG_(snprintf)(buf, n, "was handed to a new thread by pthread_create"); break;
   case SH_WHY_THREAD_FREE:
      VG_(snprintf)(buf, n, "was freed by thread %u", other); break;
   case SH_WHY_OTHER_THREAD:
      VG_(snprintf)(buf, n, "belongs to thread %u", other); break;
   case SH_WHY_NEVER_FREED:
      VG_(snprintf)(buf, n, "was never freed"); break;
   case SH_WHY_OUTLIVED:
      VG_(snprintf)(buf, n, "outlived every frame of its allocation stack"); break;
   case SH_WHY_UNTRACKED:
      VG_(snprintf)(buf, n, "was allocated outside any frame stackheap follows"); break;
   case SH_WHY_TOO_LARGE:
      VG_(snprintf)(buf, n, "is larger than --max-stack-block"); break;
   case SH_WHY_OVERFLOW:
      VG_(snprintf)(buf, n, "had more holders than stackheap tracks"); break;
   case SH_WHY_PENDING_CAP:
      VG_(snprintf)(buf, n, "waited on its holders when too many blocks already did"); break;
   default:
      VG_(snprintf)(buf, n, "could not live on the stack"); break;
   }
}

void SH_(describe_why)(const ShWhy* w, HChar* buf, Int n)
{
   HChar loc[400], inner[400];
   if (w->kind == SH_WHY_OVERFLOW) {
      VG_(snprintf)(buf, n, "one holder too many for stackheap to track (judged conservatively)");
      return;
   }
   if (w->kind == SH_WHY_PENDING_CAP) {
      VG_(snprintf)(buf, n, "not yet judged when too many freed blocks waited on their "
                    "holders (judged conservatively)");
      return;
   }
   if (w->kind != SH_WHY_HEAP) {
      HChar c[500];
      clause(w->kind, w->dest, w->other, c, sizeof c);
      VG_(snprintf)(buf, n, "which %s", c);
      return;
   }
   if (w->via == NULL) {
      VG_(snprintf)(buf, n, "which was held by another heap block that could not live on the stack");
      return;
   }
   {
      HChar* l = SH_(code_loc_dup)(w->via->ips[0]);
      VG_(snprintf)(loc, sizeof loc, "%s", l);
      VG_(free)(l);
   }
   if (w->via_kind == SH_WHY_HEAP)
      VG_(snprintf)(inner, sizeof inner, "held in turn by a block that could not live on the stack");
   else
      clause(w->via_kind, w->via_dest, w->via_other, inner, sizeof inner);
   VG_(snprintf)(buf, n, "which was stored into a heap block allocated at %s, which %s", loc, inner);
}

/*------------------------------------------------------------*/
/*--- Stores                                               ---*/
/*------------------------------------------------------------*/

static void note_hold_ip(HNode* n, Addr ip)
{
   if (n->hold_ip == 0) n->hold_ip = ip;
   else if (n->hold_ip != ip) n->hold_ip_multi = True;
}

/* b is heap for certain: held at ip by a block of site via that can't move. */
static void mark_heap(Block* b, Addr ip, Site* via, const ShWhy* vw)
{
   HNode* n = SH_(block_hn)(b);
   if (n != NULL && n->why.kind == SH_WHY_NONE) why_held(&n->why, via, vw);
   SH_(escape_heap)(b, ip, via, vw);
   SH_(holders_drop)(b);
}

/* b escaped for certain: its holders no longer matter; dropping them
   frees the judged holders' nodes it kept alive. */
void SH_(holders_drop)(Block* b)
{
   HNode* n = SH_(block_hn)(b);
   Int i;
   if (n == NULL) return;
   for (i = 0; i < n->n_holders; i++) unref(n->holders[i]);
   n->n_holders = 0;
   if (n->holders != n->holders_in) VG_(free)(n->holders);
   n->holders = n->holders_in;
   n->cap = SH_HOLDERS_INLINE;
}

/* Drop judged holders from a full array: good ones fold their home into
   n->home.  Returns False when one of them was not good (b is heap). */
static Bool compact(Block* b, HNode* n)
{
   Int i, k = 0;
   HNode* bad = NULL;
   for (i = 0; i < n->n_holders; i++) {
      HNode* h = n->holders[i];
      if (h->state == HN_DONE && h->good) {
         outer_home(&n->home, &h->home);
         unref(h);
      } else {
         if (h->state == HN_DONE && bad == NULL) bad = h;
         n->holders[k++] = h;
      }
   }
   n->n_holders = k;
   if (bad != NULL) mark_heap(b, n->hold_ip, bad->site, &bad->why);
   return bad == NULL;
}

void SH_(holder_store)(Block* b, Block* d, Addr ip, Addr dest)
{
   ShWhy w;
   HNode *bn, *dn;
   Int i;
   if (b->escape != SH_ESC_NONE) {
      /* Already off the stack: only the store location matters now. */
      if (certainly_off_stack(b, d, &w)) SH_(escape_heap)(b, ip, d->site, &w);
      return;
   }
   if (certainly_off_stack(b, d, &w)) { mark_heap(b, ip, d->site, &w); return; }
   bn = node_of(b);
   dn = node_of(d);
   for (i = 0; i < bn->n_holders; i++)
      if (bn->holders[i] == dn) { note_hold_ip(bn, ip); return; }
   note_hold_ip(bn, ip);
   if (bn->n_holders == bn->cap) {
      if (!compact(b, bn)) return;
      if (bn->n_holders == bn->cap && bn->cap < SH_HOLDERS_MAX) {
         HNode** more = VG_(malloc)("sh.holders", SH_HOLDERS_MAX * sizeof(HNode*));
         VG_(memcpy)(more, bn->holders, bn->n_holders * sizeof(HNode*));
         bn->holders = more;
         bn->cap = SH_HOLDERS_MAX;
      }
      if (bn->n_holders == bn->cap) {
         w.kind = SH_WHY_OVERFLOW;
         SH_(holders_overflowed)++;
         mark_heap(b, ip, d->site, &w);
         bn->why = w;
         return;
      }
   }
   bn->holders[bn->n_holders++] = dn;
   dn->refs++;
}

/*------------------------------------------------------------*/
/*--- Waiting                                              ---*/
/*------------------------------------------------------------*/

static void pend_link(HNode* n)
{
   n->pend_prev = pend_tail;
   n->pend_next = NULL;
   if (pend_tail) pend_tail->pend_next = n; else pend_head = n;
   pend_tail = n;
   SH_(n_pending)++;
   if (SH_(n_pending) > SH_(max_pending)) SH_(max_pending) = SH_(n_pending);
}

static void pend_unlink(HNode* n)
{
   if (n->pend_prev) n->pend_prev->pend_next = n->pend_next; else pend_head = n->pend_next;
   if (n->pend_next) n->pend_next->pend_prev = n->pend_prev; else pend_tail = n->pend_prev;
   n->pend_prev = n->pend_next = NULL;
   SH_(n_pending)--;
}

static void wait_on(HNode* x, HNode* live)
{
   tl_assert(x->waiting_on == NULL && live->state == HN_LIVE);
   x->waiting_on = live;
   x->next_waiter = NULL;
   x->refs++;
   if (live->waiters_tail) live->waiters_tail->next_waiter = x; else live->waiters = x;
   live->waiters_tail = x;
}

/* n was freed or judged: whoever waited on it looks again (in order). */
static void wake_waiters(HNode* n)
{
   HNode* x = n->waiters;
   n->waiters = n->waiters_tail = NULL;
   while (x != NULL) {
      HNode* next = x->next_waiter;
      x->next_waiter = NULL;
      VG_(addToXA)(queue, &x);   /* keeps its reference */
      x = next;
   }
}

/*------------------------------------------------------------*/
/*--- Judging groups                                       ---*/
/*------------------------------------------------------------*/

static HNode* at(XArray* xa, Word i) { return *(HNode**)VG_(indexXA)(xa, i); }

/* The final verdict of one node; frees its parked block. */
static void judge(HNode* m, ShClass cls, const ShHome* home, const ShVia* via)
{
   Block* b = m->block;
   m->good = is_eligible(cls);
   if (m->good) {
      m->home = *home;
   } else if (m->why.kind == SH_WHY_NONE || cls != SH_CLASS_HEAP) {
      if (cls == SH_CLASS_HEAP && via != NULL)
         why_held(&m->why, via->holder_site, &via->why);
      else if (cls == SH_CLASS_GLOBAL || cls == SH_CLASS_THREAD || cls == SH_CLASS_HEAP) {
         why_of_escape(b, &m->why);
         if (cls == SH_CLASS_THREAD && b->escape != SH_ESC_THREAD) {
            m->why.kind = SH_WHY_THREAD_FREE;   /* freed by another thread */
            m->why.other = VG_(get_running_tid)();
         }
      } else if (cls == SH_CLASS_TOO_LARGE) m->why.kind = SH_WHY_TOO_LARGE;
      else m->why.kind = SH_WHY_OUTLIVED;
   }
   if (m->parked) { tl_assert(b->site->waiting > 0); b->site->waiting--; }
   SH_(block_verdict)(b, &m->own, cls, home, via);
   m->state = HN_DONE;
   pend_unlink(m);
   wake_waiters(m);
}

/* After judge(): drop the node's links (separately, so that a group's
   members stay readable while the group is judged). */
static void release(HNode* m)
{
   Block* b = m->block;
   Int i;
   for (i = 0; i < m->n_holders; i++) unref(m->holders[i]);
   m->n_holders = 0;
   if (m->holders != m->holders_in) VG_(free)(m->holders);
   m->holders = m->holders_in;
   m->cap = SH_HOLDERS_INLINE;
   SH_(bx)(b)->hn = NULL;
   m->block = NULL;
   if (m->parked) SH_(block_discard)(b);
   unref(m);
}

static ShClass own_escape_class(const HNode* m)
{
   UChar c = m->own.cls;
   return (c == SH_CLASS_GLOBAL || c == SH_CLASS_THREAD || c == SH_CLASS_HEAP)
          ? c : SH_N_CLASSES;
}

/* A strongly connected group of pending nodes whose holders outside the
   group are all judged. */
static void judge_group(HNode** ms, Int k)
{
   ShHome home = { -1, 0, 0 };
   HNode* culprit = NULL;    /* a judged holder, or member, that can't move */
   Bool culprit_member = False;
   Int i, j;
   ShVia via;

   for (i = 0; i < k; i++) {
      HNode* m = ms[i];
      outer_home(&home, &m->home);
      if (is_eligible(m->own.cls)) outer_home(&home, &m->own.home);
      for (j = 0; j < m->n_holders; j++) {
         HNode* h = m->holders[j];
         if (h->state != HN_DONE) continue;   /* in the group */
         if (h->good) outer_home(&home, &h->home);
         else if (culprit == NULL || culprit_member) { culprit = h; culprit_member = False; }
      }
      if (!is_eligible(m->own.cls) && culprit == NULL && k > 1) {
         culprit = m;
         culprit_member = True;
      }
   }
   for (i = 0; i < k; i++) {
      HNode* m = ms[i];
      ShClass esc = own_escape_class(m);
      ShClass cls;
      Block* b = m->block;
      const ShVia* vp = NULL;
      if (esc != SH_N_CLASSES) {
         cls = esc;
      } else if (culprit != NULL && culprit != m) {
         cls = SH_CLASS_HEAP;
         VG_(memset)(&via, 0, sizeof via);
         via.ip = m->hold_ip;
         via.ip_multi = m->hold_ip_multi;
         via.holder_site = culprit->site;
         if (culprit_member) {
            /* The member's own reason, as if it were judged alone. */
            if (own_escape_class(culprit) != SH_N_CLASSES) why_of_escape(culprit->block, &via.why);
            else via.why.kind = culprit->own.cls == SH_CLASS_TOO_LARGE ? SH_WHY_TOO_LARGE
                                                                      : SH_WHY_OUTLIVED;
         } else {
            via.why = culprit->why;
         }
         vp = &via;
      } else if (culprit == m) {
         /* The member that could not move, in a group: its holders are
            heap because of it, so it is heap too (heap outranks its own
            outlived / too_large). */
         cls = SH_CLASS_HEAP;
         VG_(memset)(&via, 0, sizeof via);
         via.ip = m->hold_ip;
         via.ip_multi = m->hold_ip_multi;
         via.holder_site = m->site;
         via.why.kind = m->own.cls == SH_CLASS_TOO_LARGE ? SH_WHY_TOO_LARGE : SH_WHY_OUTLIVED;
         vp = &via;
      } else if (!is_eligible(m->own.cls)) {
         cls = m->own.cls;             /* outlived or too_large, alone */
      } else {
         cls = (home.idx == b->alloc_idx && home.serial == b->alloc_serial)
               ? SH_CLASS_FRAME : SH_CLASS_CALLER;
      }
      judge(m, cls, &home, vp);
   }
   for (i = 0; i < k; i++) release(ms[i]);
}

/* Tarjan over the group gathered in scratch_r (all marked with gen):
   groups come out dependencies first. */
static void judge_reachable(void)
{
   Word r, nr = VG_(sizeXA)(scratch_r);
   Int index = 0;
   XArray* groups = scratch_g;
   /* Judged members are released as groups come out: keep them readable. */
   for (r = 0; r < nr; r++) at(scratch_r, r)->refs++;
   for (r = 0; r < nr; r++) {
      HNode* root = at(scratch_r, r);
      TFrame f;
      if (root->t_index >= 0) continue;
      root->t_index = root->t_low = index++;
      VG_(addToXA)(scratch_s, &root);
      root->on_stack = True;
      f.n = root; f.i = 0;
      VG_(addToXA)(scratch_f, &f);
      while (VG_(sizeXA)(scratch_f) > 0) {
         TFrame* top = VG_(indexXA)(scratch_f, VG_(sizeXA)(scratch_f) - 1);
         HNode* v = top->n;
         if (top->i < v->n_holders) {
            HNode* w = v->holders[top->i++];
            if (w->state != HN_PENDING || w->mark != gen) continue;
            if (w->t_index < 0) {
               TFrame g;
               w->t_index = w->t_low = index++;
               VG_(addToXA)(scratch_s, &w);
               w->on_stack = True;
               g.n = w; g.i = 0;
               VG_(addToXA)(scratch_f, &g);
            } else if (w->on_stack && w->t_index < v->t_low) {
               v->t_low = w->t_index;
            }
            continue;
         }
         VG_(dropTailXA)(scratch_f, 1);
         if (VG_(sizeXA)(scratch_f) > 0) {
            TFrame* p = VG_(indexXA)(scratch_f, VG_(sizeXA)(scratch_f) - 1);
            if (v->t_low < p->n->t_low) p->n->t_low = v->t_low;
         }
         if (v->t_low == v->t_index) {
            HNode* w;
            VG_(dropTailXA)(groups, VG_(sizeXA)(groups));
            do {
               w = at(scratch_s, VG_(sizeXA)(scratch_s) - 1);
               VG_(dropTailXA)(scratch_s, 1);
               w->on_stack = False;
               VG_(addToXA)(groups, &w);
            } while (w != v);
            judge_group((HNode**)VG_(indexXA)(groups, 0), VG_(sizeXA)(groups));
         }
      }
   }
   for (r = 0; r < nr; r++) unref(at(scratch_r, r));
}

/* x is pending: if a live block is reachable through unjudged holders,
   wait on it; otherwise judge everything pending that x reaches. */
static void settle(HNode* x)
{
   HNode* blocker = NULL;
   Int i;
   /* The common case: every holder already judged (or none). */
   for (i = 0; i < x->n_holders; i++)
      if (x->holders[i]->state != HN_DONE) break;
   if (i == x->n_holders) {
      judge_group(&x, 1);
      return;
   }
   gen++;
   VG_(dropTailXA)(scratch_r, VG_(sizeXA)(scratch_r));
   VG_(dropTailXA)(scratch_s, VG_(sizeXA)(scratch_s));
   x->mark = gen;
   x->t_index = -1;
   VG_(addToXA)(scratch_r, &x);
   VG_(addToXA)(scratch_s, &x);
   while (blocker == NULL && VG_(sizeXA)(scratch_s) > 0) {
      HNode* y = at(scratch_s, VG_(sizeXA)(scratch_s) - 1);
      VG_(dropTailXA)(scratch_s, 1);
      for (i = 0; i < y->n_holders; i++) {
         HNode* h = y->holders[i];
         if (h->state == HN_DONE) continue;
         if (h->state == HN_LIVE) { blocker = h; break; }
         if (h->mark == gen) continue;
         /* A pending node waiting on a live one is blocked by it too. */
         if (h->waiting_on != NULL && h->waiting_on->state == HN_LIVE) {
            blocker = h->waiting_on;
            break;
         }
         h->mark = gen;
         h->t_index = -1;
         VG_(addToXA)(scratch_r, &h);
         VG_(addToXA)(scratch_s, &h);
      }
   }
   VG_(dropTailXA)(scratch_s, VG_(sizeXA)(scratch_s));
   if (blocker != NULL) { wait_on(x, blocker); return; }
   judge_reachable();
}

static void drain(void)
{
   while (queue_head < VG_(sizeXA)(queue)) {
      HNode* x = at(queue, queue_head++);
      x->waiting_on = NULL;
      if (x->state == HN_PENDING) settle(x);
      unref(x);
   }
   VG_(dropTailXA)(queue, VG_(sizeXA)(queue));
   queue_head = 0;
}

/* Too many pending: judge x heap now, conservatively. */
static void give_up(HNode* x)
{
   ShVia via;
   ShClass esc = own_escape_class(x);
   VG_(memset)(&via, 0, sizeof via);
   via.ip = x->hold_ip;
   via.ip_multi = x->hold_ip_multi;
   via.holder_site = x->n_holders > 0 ? x->holders[0]->site : x->site;
   via.why.kind = SH_WHY_PENDING_CAP;
   /* If it waits in a list, it stays there: its waker skips judged nodes. */
   SH_(holders_overflowed)++;
   judge(x, esc != SH_N_CLASSES ? esc : SH_CLASS_HEAP, &x->home,
         esc != SH_N_CLASSES ? NULL : &via);
   release(x);
}

Bool SH_(holders_freed)(Block* b, const ShOwn* own)
{
   HNode* n = SH_(block_hn)(b);
   Bool parked = False;
   tl_assert(n != NULL && n->state == HN_LIVE);
   n->refs++;   /* keep it readable while it may be judged and released */
   n->own = *own;
   n->state = HN_PENDING;
   pend_link(n);
   wake_waiters(n);
   settle(n);
   drain();
   if (n->state == HN_PENDING) {
      if (SH_(n_pending) > SH_PENDING_CAP) {
         give_up(n);
         drain();
      } else {
         n->parked = parked = True;
         b->site->waiting++;
      }
   }
   unref(n);
   return parked;
}

/*------------------------------------------------------------*/
/*--- Exit and dumps                                       ---*/
/*------------------------------------------------------------*/

Bool SH_(held_by_non_stack)(const Block* b)
{
   const HNode* n = SH_(block_hn)(b);
   Int i;
   if (n == NULL) return False;
   for (i = 0; i < n->n_holders; i++)
      if (n->holders[i]->state != HN_DONE || !n->holders[i]->good) return True;
   return False;
}

/* A live block at exit with a holder that could not move: the holder. */
static const HNode* bad_holder(const Block* b)
{
   const HNode* n = SH_(block_hn)(b);
   Int i;
   if (n == NULL) return NULL;
   for (i = 0; i < n->n_holders; i++)
      if (n->holders[i]->state != HN_DONE || !n->holders[i]->good) return n->holders[i];
   return NULL;
}

void SH_(holders_note_exit_escape)(Block* b)
{
   const HNode* h = bad_holder(b);
   if (h != NULL && b->site != NULL)
      SH_(note_heap_first_escape)(b->site, SH_(block_hn)(b)->hold_ip, h->site, &h->why);
}

static void never_freed(Block* b)
{
   HNode* n = SH_(block_hn)(b);
   if (n == NULL) return;
   tl_assert(n->state == HN_LIVE);
   n->state = HN_DONE;
   n->good = False;
   if (b->escape != SH_ESC_NONE) why_of_escape(b, &n->why);
   else n->why.kind = SH_WHY_NEVER_FREED;
   wake_waiters(n);
}

void SH_(holders_at_exit)(void)
{
   if (node_pool == NULL) return;
   SH_(blocks_for_each)(never_freed);
   drain();
   /* Every pending node waited on a live one; none should remain. */
   while (pend_head != NULL) {
      HNode* x = pend_head;
      x->refs++;
      settle(x);
      drain();
      tl_assert(x->state == HN_DONE);
      unref(x);
   }
}

void SH_(holders_for_each_pending)(void (*fn)(Block*, ShClass))
{
   HNode* n;
   for (n = pend_head; n != NULL; n = n->pend_next) {
      ShClass esc = own_escape_class(n);
      fn(n->block, esc != SH_N_CLASSES ? esc : SH_CLASS_HEAP);
   }
}
