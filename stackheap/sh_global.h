/*--------------------------------------------------------------------*/
/*--- stackheap: which heap blocks could have lived on the stack.  ---*/
/*--- sh_global.h: types and cross-file declarations.               ---*/
/*--------------------------------------------------------------------*/

/* stackheap is free software; GPL-2.0-or-later.  See COPYING. */

#ifndef SH_GLOBAL_H
#define SH_GLOBAL_H

#include "pub_tool_basics.h"
#include "pub_tool_execontext.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_xarray.h"

/* Namespace for symbols shared between the tool's files. */
#define SH_(str) VGAPPEND(vgStackheap_, str)

#define SH_VERSION "0.1.0"

/*------------------------------------------------------------*/
/*--- Options (sh_options.c)                               ---*/
/*------------------------------------------------------------*/

typedef enum {
   SH_SORT_BLOCKS, SH_SORT_BYTES, SH_SORT_ELIGIBLE_BLOCKS,
   SH_SORT_ELIGIBLE_BYTES, SH_SORT_CALLS_SAVED
} ShSortBy;

extern Int    SH_(clo_depth);            /* frames kept in a site's stack */
extern Int    SH_(clo_top);              /* sites shown in the text report */
extern ShSortBy SH_(clo_sort_by);
extern const HChar* SH_(clo_json_out_file);   /* unexpanded; "none" = skip */
extern const HChar* SH_(clo_xtree_out_file);  /* callgrind format; "none" (default) = skip */
extern ULong  SH_(clo_max_stack_block);  /* larger eligible blocks: too_large */
extern ULong  SH_(clo_stack_budget);     /* max stack a suggestion may add */
extern Bool   SH_(clo_collect_atstart);
extern Bool   SH_(clo_fast_requests);
extern Bool   SH_(clo_batch_rep_movs);
/* CI thresholds; negative means "not set". */
extern Double SH_(clo_max_escape_rate);
extern Long   SH_(clo_max_alloc_rate);
extern Long   SH_(clo_max_eligible_blocks);

/* The core's own options the tool reads: sh_vgapi.h. */

Bool SH_(process_cmd_line_option)(const HChar* arg);
void SH_(options_post_init)(void);
void SH_(print_usage)(void);
void SH_(print_debug_usage)(void);
Bool SH_(is_alloc_fn_name)(const HChar* fnname);
UInt SH_(n_alloc_fns)(void);
const HChar* SH_(alloc_fn)(UInt i);
const HChar* SH_(sort_by_name)(ShSortBy s);

/*------------------------------------------------------------*/
/*--- Time and global counters (sh_main.c)                 ---*/
/*------------------------------------------------------------*/

/* Guest instructions executed so far: the time base.  Counted by code
   inlined into every superblock, per thread, and folded in here whenever
   a thread stops running generated code (sh_instrument.c). */
extern ULong SH_(instrs);
/* False between SH_STOP_COLLECTING and SH_START_COLLECTING. */
extern Bool  SH_(collecting);
extern ULong SH_(n_bad_frees);
extern ULong SH_(n_off_stack_blocks);

/*------------------------------------------------------------*/
/*--- Shadow stacks (sh_threads.c, sh_frames.c)            ---*/
/*------------------------------------------------------------*/

/* Which stack a frame (or an address) is on. */
typedef enum {
   SH_SEG_NORMAL = 0,   /* the thread's own stack */
   SH_SEG_ALT    = 1,   /* the signal alternate stack */
   SH_SEG_OTHER  = 2    /* anything else: a stack switched to by the program */
} ShSeg;

typedef struct {
   Addr  entry_sp;   /* SP just after the call: it points at the return address */
   Addr  fn;         /* call target: the function's entry address */
   ULong serial;     /* per-thread push counter: tells frames at one index apart */
   UChar seg;        /* ShSeg the frame lives on */
   Bool  signal;     /* pseudo-frame for a signal handler (fn filled in lazily) */
} Frame;

typedef struct {
   ThreadId tid;
   Bool   live;
   Frame* frames;        /* the shadow stack; frames[0] is the oldest */
   Int    depth;         /* frames in use */
   Int    capacity;
   Int    n_nonnormal;   /* frames with seg != SH_SEG_NORMAL (disables binary search) */
   Int    root_idx;      /* index of the root frame, -1 until seen */
   ULong  next_serial;
   Addr   stack_top;     /* the stack's start (highest address); above it is not stack */
   Addr   stack_limit;   /* lowest address the stack may grow to */
   Bool   on_altstack;   /* a handler is running on the signal alternate stack */
   Addr   alt_lo, alt_hi;/* its bounds while on_altstack */
   /* pthread_create hand-off: stores of this value are a hand-off, not an escape. */
   Addr   handoff_value;
   /* The store filter's copy in the thread's shadow state (sh_instrument.c),
      once on_call has seen its guest-state pointer; NULL before. */
   volatile struct ShFilterCopy_* filter_copy;
   /* statistics */
   ULong  frames_pushed;
   Int    max_depth;
   ULong  max_stack_bytes;  /* stack bytes in use when max_depth was reached */
} ThreadState;

/* ts runs on its own stack (sp inside it) with only frames of that stack:
   the shadow stack is then a plain ordered stack (on_call's common case,
   and what a read of it by frame sizes needs, sh_sites.c). */
static inline Bool SH_(on_own_stack_only)(const ThreadState* ts, Addr sp)
{
   return ts->n_nonnormal == 0 && ts->stack_limit != 0
          && sp - ts->stack_limit <= ts->stack_top - ts->stack_limit;
}

ThreadState* SH_(thread)(ThreadId tid);     /* creates on first use */
/* The thread running client code now (set when a thread starts running:
   helpers called from generated code use it instead of a lookup). */
extern ThreadState* SH_(cur_ts);
void SH_(thread_runs)(ThreadId tid);
ThreadState* SH_(thread_if_any)(ThreadId tid);
void SH_(threads_init)(void);
void SH_(thread_created)(ThreadId parent, ThreadId child);
void SH_(thread_first_insn)(ThreadId tid);
void SH_(thread_exited)(ThreadId tid);
ThreadId SH_(max_tid)(void);
/* The core still runs thread t (exited ones and a fork child's lost ones are not). */
Bool SH_(thread_alive)(ThreadId t);
void SH_(threads_watch_fork)(void);

/* Helpers called from generated code. */
VG_REGPARM(3) void SH_(on_call)(Addr sp_after, Addr target, UChar* gs);
VG_REGPARM(1) void SH_(on_root_entry)(Addr fn);
VG_REGPARM(1) void SH_(on_libc_start_main)(Addr main_fn);
void SH_(unwind_to)(ThreadState* ts, Addr sp);
/* Stores into the running thread's innermost frame need no check
   (sh_frames.c): [*lo, *lo + *span) for ts, span 0 when off.  Generated
   code reads it from the filter copy, which refresh_top_filter writes. */
extern Bool SH_(single_threaded);
void SH_(top_filter_range)(const ThreadState* ts, Addr* lo, Addr* span);
void SH_(refresh_top_filter)(ThreadState* ts);
void SH_(rewrite_filter_copy)(ThreadState* ts);   /* heap bounds too */
ShSeg SH_(seg_of)(ThreadState* ts, Addr a);
/* Index of the frame owning stack address a, or -1 when no frame does. */
Int  SH_(frame_owning)(ThreadState* ts, Addr a);
/* Index of the innermost frame still alive among those that existed when
   the frame at idx with serial s was the top of the chain (<= idx), or -1. */
Int  SH_(surviving_ancestor)(ThreadState* ts, Int idx, ULong serial);
void SH_(signal_delivered)(ThreadId tid, Int sig, Bool alt_stack);
void SH_(signal_returned)(ThreadId tid, Int sig);
void SH_(register_root_fn)(ThreadId creator, Addr fn, Addr arg);
Bool SH_(is_root_fn)(Addr fn);

/*------------------------------------------------------------*/
/*--- Allocation sites (sh_sites.c)                        ---*/
/*------------------------------------------------------------*/

typedef enum {
   SH_CLASS_GLOBAL = 0, SH_CLASS_THREAD, SH_CLASS_HEAP, SH_CLASS_NEVER_FREED,
   SH_CLASS_OUTLIVED, SH_CLASS_TOO_LARGE, SH_CLASS_FRAME, SH_CLASS_CALLER,
   SH_N_CLASSES
} ShClass;
/* Ordered as the format document lists the priority (first applies). */
extern const HChar* const SH_(class_name)[SH_N_CLASSES];
/* The order both reports list classes in (sh_report.c). */
extern const Int SH_(class_report_order)[SH_N_CLASSES];

/* How a block escaped, most severe last (the class priority). */
typedef enum { SH_ESC_NONE = 0, SH_ESC_HEAP, SH_ESC_THREAD, SH_ESC_GLOBAL } ShEscape;

/* A home: a function frame (relative to the allocating one) where
   eligible blocks of a site could have lived. */
typedef struct {
   Int   depth;       /* 0 = the allocating function */
   Addr  fn;          /* entry address of that function */
   ULong blocks;
   UInt  max_activations;  /* most simultaneous activations of fn seen at free */
   /* Why the home is this frame and not a deeper one (first block seen):
      a store of its address into this frame, or its free after the
      frames in between had returned. */
   UChar pin;         /* ShPin */
   Addr  pin_ip;      /* the store or the free (innermost non-allocator frame) */
} Home;

typedef enum { SH_PIN_NONE = 0, SH_PIN_STORE, SH_PIN_FREE } ShPin;

/* One place a site's blocks were freed: the innermost non-allocator
   frame's code address (free_sites), with a count. */
typedef struct {
   Addr  ip;
   ULong blocks;
} FreeIp;

/* The first escaping store of a site's blocks. */
typedef struct {
   Bool  valid;
   UChar cls;          /* ShClass of the escape */
   Addr  store_ip;     /* the instruction that stored the pointer */
   HChar* target;      /* words for the destination (VG_(malloc)'d) */
} FirstEscape;

/* Size histogram in powers of two, for percentile advice. */
#define SH_SIZE_BUCKETS 48

typedef struct _Site {
   ExeContext* ec;          /* trimmed allocation stack (hash-consed) */
   Addr*  ips;              /* its frames, innermost first (the core keeps them opaque) */
   UInt   n_ips;
   ULong  first_time;       /* SH_(instrs) at its first block: stable tie-break */
   UInt   id;               /* 1-based, in report order (set at exit) */
   ULong  blocks, bytes, min_size, max_size;
   ULong  classes[SH_N_CLASSES];
   ULong  cls_bytes[SH_N_CLASSES];
   ULong  reallocs;
   ULong  lifetime_sum;     /* instrs, over freed blocks */
   ULong  freed;
   ULong  live, max_live;
   ULong  unfreed_at_exit;  /* blocks still live at exit, whatever their class */
   ULong  waiting;          /* freed, verdict waiting on holders (sh_holders.c) */
   XArray* homes;           /* of Home */
   FirstEscape first_escape;
   /* remove_escape: blocks that would have been eligible but for stores
      at one code location (the first such location seen). */
   Addr   sole_escape_ip;
   ULong  sole_escape_blocks;
   UChar  sole_escape_cls;
   Int    sole_escape_depth;   /* home depth those blocks would have had */
   Addr   sole_escape_home_fn;
   ULong  sole_escape_max_size;
   ULong  size_hist[SH_SIZE_BUCKETS];
   ULong  size_hist_bytes[SH_SIZE_BUCKETS];   /* bytes requested, per bucket */
   ULong  const_size;          /* the size of every block, while all are equal */
   Bool   varied_sizes;
   Int    phase;               /* phase of its first block, -1 if none */
   /* Growth: realloc growths, and allocate-copy-free growth (a block freed
      just after a larger one of the same site was allocated). */
   ULong  growth_steps;
   ULong  growth_copy_steps;   /* of which allocate-copy-free (2 calls each) */
   ULong  growth_bytes;        /* bytes copied by growth (old sizes summed) */
   ULong  max_growth_chain;    /* most growth steps of one logical buffer */
   ULong  chain_first_size, chain_last_size;  /* of that longest chain */
   ULong  last_alloc_time;     /* most recent block of this site */
   Addr   last_alloc_start;
   SizeT  last_alloc_size;
   /* Reuse: a block allocated by the same activation that already freed one
      of this site, with no overlap (hoist_out_of_loop). */
   ULong  last_free_serial;    /* alloc_serial of the last freed block */
   ThreadId last_free_tid;
   ULong  last_free_time;
   ULong  reuse_blocks;        /* blocks that were such a reuse */
   UInt   max_reuse_run;       /* longest run within one activation */
   UInt   cur_reuse_run;
   /* Escaping blocks that were freed (object_pool). */
   ULong  escaped_freed;
   /* Memory pools (sh_pools.c): where the pool of its blocks was created
      (0: not pool blocks); mixed when they came from pools created at
      several places, or also from no pool. */
   Addr   pool_ip;
   Bool   pool_mixed;
   /* Where its blocks were freed (issue 9): distinct code addresses of the
      freeing frame, at most SH_MAX_FREE_IPS; later ones only counted. */
   XArray* free_ips;           /* of FreeIp; NULL until the first free */
   ULong  free_ips_dropped;
   /* frame blocks whose free was issued by a callee of the allocating
      function rather than by the function itself: a local array would
      need that free removed. */
   ULong  frame_freed_in_callee;
   /* remove_escape: for a heap-class sole escape, the allocating code
      address of the block stored into (0 otherwise). */
   Addr   sole_escape_dest_ip;
   /* of the sole-escape blocks, those whose holder was still live when
      they were freed: the structure held them for their whole life */
   ULong  sole_escape_held;
} Site;

#define SH_MAX_FREE_IPS 16

/* The site of an allocation happening now in thread tid.  Also returns
   the SP and an IP of the depth-0 function (0 when unknown). */
Site* SH_(site_for)(ThreadId tid, /*OUT*/Addr* depth0_sp, /*OUT*/Addr* depth0_ip);
void  SH_(sites_init)(void);
UInt  SH_(n_sites)(void);
Site* SH_(site_at)(UInt i);        /* unordered */
/* The home of site s at that depth in that function, created empty. */
Home* SH_(site_home)(Site* s, Int depth, Addr fn);
Bool  SH_(is_alloc_frame_ip)(Addr ip);
Bool  SH_(is_allocator_or_stub)(Addr fn);   /* a shadow frame's function (free_caller) */
/* How many of an unwind's first frames are allocator frames. */
UInt  SH_(count_alloc_frames)(const Addr* ips, UInt n);
/* Whether the core's unwinder drops recursive frames it has already
   produced: then a short unwind's frames are not a longer one's first. */
Bool  SH_(unwinds_merge_recursion)(void);
/* Thread tid's first n frames as VG_(get_StackTrace) gives them (IPs
   and SPs), from the shadow stack where that gives the same (sh_sites.c);
   or fewer, ending at start-up code after a non-allocator frame (neither
   a site nor a free's caller looks past it). */
UInt  SH_(unwind)(ThreadId tid, /*OUT*/Addr* ips, UInt n, /*OUT*/Addr* sps);
void  SH_(sites_print_stats)(void);   /* --stats=yes: site look-ups */

/*------------------------------------------------------------*/
/*--- Heap blocks (sh_blocks.c, sh_alloc.c)                ---*/
/*------------------------------------------------------------*/

/* Every live block has a record, so it is kept small (issue 10: 4 million
   live blocks within 100 bytes each, table and arena included): 64 bytes.
   What most blocks never need lives in a side record (BlockExtra, made on
   first need); the store location that moved it (out of the stack, or
   its home out of its frame) is an interned store point (a few distinct
   ones per program); time, serial, thread and flags share words (the
   bounds are asserted where set). */
#define SH_TIME_BITS   48     /* alloc_time: 2^48 guest instructions */
#define SH_SERIAL_BITS 48     /* alloc_serial: 2^48 calls on one thread */
typedef struct _Block {
   /* start and size place the block in the table: while it is inserted,
      change size only with SH_(block_set_size), and start only between
      SH_(blocks_detach) and SH_(blocks_insert). */
   Addr   start;          /* first byte */
   struct _Block* next;   /* next block starting in the same granule (sh_blocks.c) */
   SizeT  size;           /* current requested size */
   Site*  site;
   ULong  alloc_time : SH_TIME_BITS;      /* SH_(instrs) */
   ULong  tid : 16;                       /* allocating thread (< VG_N_THREADS) */
   ULong  alloc_serial : SH_SERIAL_BITS;  /* serial of the allocating frame */
   ULong  escape : 2;                     /* ShEscape */
   /* More than one code location's stores moved it out (remove_escape). */
   ULong  escape_ip_multi : 1;
   ULong  custom : 1;     /* VALGRIND_MALLOCLIKE_BLOCK or a mempool's */
   ULong  counted : 1;    /* allocated while collecting */
   ULong  indexed : 1;    /* in the live-block table (sh_blocks.c) */
   ULong  heap_cls : 6;   /* its memory's size class (sh_heap.c), 0: the arena's */
   /* A store point (sh_records.c), 0: none.  Once it escaped: the first
      code location whose stores moved it out, with its class and (issue 9)
      the holder's site for a heap escape.  Before: the stack store that
      last moved home_idx out (what pinned the home).  One field serves
      both: an escaped block is never judged frame or caller, so its home's
      pin is never asked for. */
   UInt   store_pt;
   UInt   xid;            /* its BlockExtra, 0: none (sh_records.c) */
   Int    alloc_idx;      /* shadow index of the allocating frame; -1: untracked */
   Int    home_idx;       /* innermost frame enclosing every store so far (<= alloc_idx) */
} Block;

/* The fields of a block that most blocks never use (sh_records.c). */
typedef struct _BlockExtra {
   /* A block without one has max_size == size, chain_first == the size it
      was allocated with, growth == 0 and the other fields 0. */
   SizeT  max_size;       /* largest size it reached (realloc) */
   SizeT  chain_first;    /* size when its growth chain started */
   Addr   pool;           /* mempool handle, 0 when none */
   /* Its first global or thread escape: where to (for holder chains). */
   Addr   esc_dest;
   /* Its node in the holder graph (sh_holders.c); NULL while it neither
      holds nor is held by another block. */
   struct _HNode* hn;
   UInt   growth;         /* growth steps of this logical buffer so far */
   ThreadId esc_other;
} BlockExtra;

/* Side records sit in chunks of SH_XCHUNK, found by index without a lock
   or a search: reading one is two loads. */
#define SH_XCHUNK_BITS 12
extern BlockExtra** SH_(xchunks);
static inline BlockExtra* SH_(bx)(const Block* b)   /* NULL: none yet */
{
   UInt i = b->xid;
   if (i == 0) return NULL;
   return &SH_(xchunks)[i >> SH_XCHUNK_BITS][i & ((1 << SH_XCHUNK_BITS) - 1)];
}
BlockExtra* SH_(bx_make)(Block* b);       /* SH_(bx), made (zeroed + defaults) if none */
void   SH_(bx_drop)(Block* b);            /* when the record is freed */
ULong  SH_(max_block_extras)(void);       /* most side records live at once (--stats) */
Bool   SH_(records_sane)(const Block* b); /* its side record and store point */
Bool   SH_(extras_sane)(ULong n_live_with);   /* the side records' allocator */

static inline SizeT SH_(block_max_size)(const Block* b)
{ const BlockExtra* x = SH_(bx)(b); return x ? x->max_size : b->size; }
static inline Addr SH_(block_pool)(const Block* b)
{ const BlockExtra* x = SH_(bx)(b); return x ? x->pool : 0; }
static inline struct _HNode* SH_(block_hn)(const Block* b)
{ const BlockExtra* x = SH_(bx)(b); return x ? x->hn : NULL; }

/* Store points: a block's first escaping store location, its class, and
   for a heap escape the holder's site; or (cls SH_PT_HOME) the stack store
   that pinned its home.  Index 0 is none: ip 0. */
typedef struct {
   Addr        ip;
   const struct _Site* dest_site;
   UChar       cls;       /* ShClass, or SH_PT_HOME */
} StorePoint;
#define SH_PT_HOME 0xFF
extern StorePoint* SH_(store_pts);
UInt SH_(store_pt_for)(Addr ip, UChar cls, const struct _Site* dest_site);   /* never 0 */
/* Its first escape (ip 0: it has not escaped). */
static inline const StorePoint* SH_(block_escape_pt)(const Block* b)
{ return &SH_(store_pts)[b->escape != SH_ESC_NONE ? b->store_pt : 0]; }
static inline Addr SH_(block_escape_ip)(const Block* b)
{ return SH_(block_escape_pt)(b)->ip; }
/* The stack store that last moved its home out, 0: none (or escaped). */
static inline Addr SH_(block_home_store_ip)(const Block* b)
{ return SH_(store_pts)[b->escape == SH_ESC_NONE ? b->store_pt : 0].ip; }
void SH_(records_init)(void);

void   SH_(blocks_init)(void);
Block* SH_(block_new)(Bool custom);       /* zeroed, not yet inserted */
Bool   SH_(blocks_insert)(Block* b);      /* False: overlaps a tracked block */
void   SH_(blocks_remove)(Block* b);      /* and frees it */
void   SH_(blocks_detach)(Block* b);      /* remove, keep the memory (to move it) */
void   SH_(block_discard)(Block* b);      /* free one never inserted */
/* Change a block's size (in place), keeping the table in step. */
void   SH_(block_set_size)(Block* b, SizeT n);
Block* SH_(block_exact)(Addr a, Bool custom);    /* custom: MALLOCLIKE ones */
Block* SH_(pool_block_exact)(Addr a);            /* blocks of memory pools */
/* MALLOCLIKE blocks lying wholly inside [lo, hi), appended to out (of Block*). */
void   SH_(custom_blocks_within)(Addr lo, Addr hi, XArray* out);
Block* SH_(block_containing)(Addr a);
/* The store helper's shortcut: a lies in a block recently found and marked
   settled (stores of pointers into it can teach nothing more). */
Bool   SH_(store_settled)(Addr a);
void   SH_(mark_settled)(Addr a, const Block* b);
ULong  SH_(n_live_blocks)(void);
void   SH_(blocks_for_each)(void (*fn)(Block*));   /* in address order */
ULong  SH_(blocks_table_bytes)(void);   /* the table's own memory (--stats) */
/* Bounds of every block ever live: a cheap filter for candidate pointers.
   Read by generated code. */
extern Addr SH_(heap_lo);
extern Addr SH_(heap_span);   /* heap_hi - heap_lo */

/* The program's memory (sh_heap.c): small requests from size classes,
   the others from the core's arena.  heap_get: *cls is the chunk's class
   (0: the arena's), for heap_put with the block's current size. */
#define SH_HEAP_MAX_CLASS 63   /* Block.heap_cls */
void   SH_(heap_init)(void);
void*  SH_(heap_get)(SizeT n, SizeT align, /*OUT*/UInt* cls);
void   SH_(heap_put)(void* p, SizeT n, UInt cls);
Bool   SH_(heap_chunk_sane)(Addr p, SizeT n, UInt cls);
Bool   SH_(heap_sane)(Bool full, const ULong* live);   /* live: [SH_HEAP_MAX_CLASS + 1] */
void   SH_(heap_print_stats)(void);

/* Allocation events (sh_alloc.c). */
void* SH_(malloc)              (ThreadId tid, SizeT n);
void* SH_(builtin_new)         (ThreadId tid, SizeT n);
void* SH_(builtin_new_aligned) (ThreadId tid, SizeT n, SizeT align);
void* SH_(builtin_vec_new)     (ThreadId tid, SizeT n);
void* SH_(builtin_vec_new_aligned)(ThreadId tid, SizeT n, SizeT align);
void* SH_(memalign)            (ThreadId tid, SizeT align, SizeT n);
void* SH_(calloc)              (ThreadId tid, SizeT m, SizeT n);
void  SH_(free)                (ThreadId tid, void* p);
void  SH_(builtin_delete)      (ThreadId tid, void* p);
void  SH_(builtin_delete_aligned)(ThreadId tid, void* p, SizeT align);
void  SH_(builtin_vec_delete)  (ThreadId tid, void* p);
void  SH_(builtin_vec_delete_aligned)(ThreadId tid, void* p, SizeT align);
void* SH_(realloc)             (ThreadId tid, void* p, SizeT n);
SizeT SH_(malloc_usable_size)  (ThreadId tid, void* p);
/* pool is the VALGRIND_CREATE_MEMPOOL handle, 0 for MALLOCLIKE blocks.
   NULL when the block could not be tracked (overlap, warned). */
Block* SH_(custom_alloc)(ThreadId tid, Addr a, SizeT n, Addr pool);
void  SH_(custom_free)(ThreadId tid, Addr a);               /* FREELIKE */
void  SH_(custom_retire)(ThreadId tid, Block* b);           /* and frees it */
/* A block moved (and resized) by the program's allocator: same block,
   history and site.  False (block unchanged) when the new place overlaps
   a tracked block. */
Bool  SH_(custom_move)(ThreadId tid, Block* b, Addr to, SizeT n);
void  SH_(custom_resize)(ThreadId tid, Addr a, SizeT old_n, SizeT new_n);
/* The warning for a free of an address that is no live block of that
   kind: names a double free or a free of a block realloc moved. */
void  SH_(warn_bad_free)(ThreadId tid, Addr a, const HChar* what);
void  SH_(finish_live_blocks)(void);
/* The class of a block still live when the program ends (or at a dump). */
ShClass SH_(class_if_never_freed)(const Block* b);

extern ULong SH_(total_blocks), SH_(total_bytes);
extern ULong SH_(live_bytes), SH_(peak_live_bytes);
extern ULong SH_(total_classes)[SH_N_CLASSES];

/* A home as a frame identity, kept after the frame is gone. */
typedef struct {
   Int   idx;       /* shadow index on the block's thread; -1: none */
   ULong serial;
   Addr  fn;
} ShHome;

/* A freed block's verdict before holders are taken into account. */
typedef struct {
   UChar  cls;        /* ShClass from its own escapes and frames */
   UChar  stack_cls;  /* ShClass from frames alone (remove_escape) */
   ShHome home;       /* its own home when stack_cls is frame/caller/too_large */
} ShOwn;

/* Why a block could not live on the stack, for the first_escape chain
   of the blocks it held. */
typedef enum {
   SH_WHY_NONE = 0, SH_WHY_GLOBAL, SH_WHY_THREAD_STACK, SH_WHY_THREAD_HANDOFF,
   SH_WHY_THREAD_FREE, SH_WHY_OTHER_THREAD, SH_WHY_HEAP, SH_WHY_NEVER_FREED,
   SH_WHY_OUTLIVED, SH_WHY_UNTRACKED, SH_WHY_TOO_LARGE, SH_WHY_OVERFLOW,
   SH_WHY_PENDING_CAP
} ShWhyKind;

typedef struct {
   UChar    kind;      /* ShWhyKind */
   ThreadId other;     /* THREAD_STACK, THREAD_FREE, OTHER_THREAD */
   Addr     dest;      /* GLOBAL: where it was stored */
   struct _Site* via;  /* HEAP: site of the holder that made it heap */
   UChar    via_kind;  /* ... and that holder's own reason (one level) */
   Addr     via_dest;
   ThreadId via_other;
} ShWhy;

/* A freed block's final verdict (sh_alloc.c).  via: for heap through a
   holder, the store and why the holder could not move; NULL otherwise. */
typedef struct { Addr ip; Bool ip_multi; Site* holder_site; ShWhy why; } ShVia;
void SH_(block_verdict)(Block* b, const ShOwn* own, ShClass cls,
                        const ShHome* home, const ShVia* via);
Bool SH_(too_large)(const Block* b);

/*------------------------------------------------------------*/
/*--- Holders (sh_holders.c)                               ---*/
/*------------------------------------------------------------*/

/* b's address was stored into d (another live block) at ip. */
void  SH_(holder_store)(Block* b, Block* d, Addr ip, Addr dest);
/* b (with a holder node) is freed: judge it now or park it.  Returns True
   when it was parked: the caller detaches the block instead of freeing it. */
Bool  SH_(holders_freed)(Block* b, const ShOwn* own);
/* b escaped for certain (global, thread, heap): forget its holders. */
void  SH_(holders_drop)(Block* b);
/* A live block's class at exit (or at a dump) when it has holders: heap
   when one of them is not known to be stack-eligible. */
Bool  SH_(held_by_non_stack)(const Block* b);
/* At exit: every live block is never freed; settle every parked block. */
void  SH_(holders_at_exit)(void);
/* A live block judged heap through a holder at exit: its site's first_escape. */
void  SH_(holders_note_exit_escape)(Block* b);
/* At a dump: visit the parked blocks with their provisional class. */
void  SH_(holders_for_each_pending)(void (*fn)(Block*, ShClass));
extern ULong SH_(holders_overflowed);
extern ULong SH_(n_pending), SH_(max_pending);
/* Words for why a holder could not live on the stack ("was stored in ..."). */
void  SH_(describe_why)(const ShWhy* w, HChar* buf, Int n);

/*------------------------------------------------------------*/
/*--- Memory pools (sh_pools.c), misuse warnings (sh_misuse.c) ---*/
/*------------------------------------------------------------*/

void  SH_(pools_init)(void);
void  SH_(pool_create)(ThreadId tid, Addr pool, UWord flags);
void  SH_(pool_destroy)(ThreadId tid, Addr pool);
void  SH_(pool_alloc)(ThreadId tid, Addr pool, Addr a, SizeT n);
void  SH_(pool_free)(ThreadId tid, Addr pool, Addr a);
void  SH_(pool_trim)(ThreadId tid, Addr pool, Addr a, SizeT n);
void  SH_(pool_move)(ThreadId tid, Addr from, Addr to);
void  SH_(pool_change)(ThreadId tid, Addr pool, Addr a, Addr b, SizeT n);
Bool  SH_(pool_exists)(Addr pool);
/* At exit: warn about MALLOCLIKE blocks still nested in the live blocks of
   a pool that is not a METAPOOL (memcheck aborts on them). */
void  SH_(pools_check_at_exit)(void);
/* A MALLOCLIKE block just recorded: tag its site with the metapool whose
   chunk holds it, if any. */
void  SH_(pool_note_malloclike)(Block* b);
/* "the memory pool created at fn (file:line)" of a pool site, VG_(malloc)'d. */
HChar* SH_(pool_site_name_dup)(const Site* s);

/* Print "Warning: <text>" and the current stack, once per distinct text
   and stack; bad_free counts it in totals.bad_frees either way. */
void  SH_(misuse)(ThreadId tid, Bool bad_free, const HChar* fmt, ...)
      PRINTF_CHECK(3, 4);

/*------------------------------------------------------------*/
/*--- Escapes (sh_escape.c)                                ---*/
/*------------------------------------------------------------*/

/* Called from generated code: value v was stored at dest by the
   instruction at ip (on_store: the guest RIP in the guest state gs).
   The generated guard has already checked that v lies within
   [heap_lo, heap_lo+heap_span). */
VG_REGPARM(3) void SH_(on_store)(Addr dest, Addr v, const UChar* gs);
VG_REGPARM(3) void SH_(on_store_at)(Addr dest, Addr v, Addr ip);

extern ULong SH_(n_store_checks), SH_(n_store_hits);
/* A region was written by a dirty helper: check every aligned word. */
VG_REGPARM(3) void SH_(on_store_region)(Addr dest, SizeT len, Addr ip);
/* Mark a block escaped (also used for the pthread_create hand-off). */
void SH_(escape_block)(Block* b, ShClass cls, Addr ip, Addr dest);
/* b is heap for certain: held by a block of holder_site that can't move. */
void SH_(escape_heap)(Block* b, Addr ip, const Site* holder_site, const ShWhy* why);
void SH_(note_heap_first_escape)(Site* s, Addr ip, const Site* holder_site, const ShWhy* why);

/*------------------------------------------------------------*/
/*--- Debug-info helpers (sh_describe.c)                   ---*/
/*------------------------------------------------------------*/

/* One frame of a report stack, strings copied. */
typedef struct {
   HChar* fn;
   HChar* file;    /* NULL when no debug info */
   UInt   line;
   HChar* obj;     /* NULL when unknown */
} ShFrameDesc;

/* Describe ip (inlined frames expanded, innermost first) into xa of
   ShFrameDesc.  Caller frees with SH_(free_frame_descs). */
void   SH_(describe_ip)(Addr ip, XArray* out);
XArray* SH_(describe_site_stack)(const struct _Site* s);
void   SH_(free_frame_descs)(XArray* xa);
/* In VG_(malloc)'d strings, whole (names can be any length): the function
   name at a code address; "fn (file:line)", "fn (in obj)" or "fn" (file
   and obj as base names) for a frame, or for a code address (its
   innermost inlined frame); and a printf. */
HChar* SH_(fn_name_dup)(Addr ip);
HChar* SH_(format_frame_dup)(const ShFrameDesc* d);
HChar* SH_(code_loc_dup)(Addr ip);
HChar* SH_(printf_dup)(const HChar* format, ...) PRINTF_CHECK(1, 2);
/* The innermost frame of ip (fn, file with its directory, line) into d;
   strings owned by d, released with SH_(clear_frame_desc). */
void   SH_(describe_code_loc)(Addr ip, ShFrameDesc* d);
void   SH_(clear_frame_desc)(ShFrameDesc* d);
/* The same three into a buffer, cut to fit (sentences of a fixed size). */
void   SH_(fn_name)(Addr ip, HChar* buf, Int n);
void   SH_(format_frame)(const ShFrameDesc* d, HChar* buf, Int n);
void   SH_(code_loc)(Addr ip, HChar* buf, Int n);
/* Words for a store destination that is not a stack (global, TLS, mmap). */
HChar* SH_(describe_data_addr)(Addr a);
/* Print a stack trace of the current thread (warnings). */
void   SH_(pp_current_stack)(ThreadId tid);

/*------------------------------------------------------------*/
/*--- Client requests (sh_clientreq.c)                     ---*/
/*------------------------------------------------------------*/

Bool SH_(handle_client_request)(ThreadId tid, UWord* arg, UWord* ret);
/* Generated code's shortcut for the malloc replacements' requests
   (sh_clientreq.c): 1 when it handled the request at arg. */
VG_REGPARM(1) UWord SH_(fast_client_call)(UWord* arg);
extern ULong SH_(n_fast_requests);   /* requests it handled */
/* The program declares a block at [a, a+len) (sh_instrument.c). */
void SH_(declared_block_range)(Addr a, SizeT len);
/* Write the reports now (SH_DUMP_REPORT), numbered files. */
void SH_(dump_report)(const HChar* label);
/* The same, the JSON going to json_file instead when not NULL (monitor);
   returns the JSON file written (VG_(malloc)'d) or NULL. */
HChar* SH_(dump_report_to)(const HChar* label, const HChar* json_file);
/* vgdb monitor commands (sh_monitor.c); False when not ours. */
Bool SH_(handle_monitor_command)(ThreadId tid, const HChar* req);

/* Program phases named with SH_SET_PHASE (sh_sites.c). */
typedef struct {
   HChar* name;
   ULong  blocks, bytes;    /* allocated while it was the current phase */
} Phase;
extern Int SH_(cur_phase);  /* index, -1 before the first SH_SET_PHASE */
void   SH_(set_phase)(HChar* name);   /* takes ownership */
UInt   SH_(n_phases)(void);
Phase* SH_(phase_at)(UInt i);

/*------------------------------------------------------------*/
/*--- Advice (sh_advice.c)                                 ---*/
/*------------------------------------------------------------*/

typedef enum {
   SH_SUG_USE_STACK = 0, SH_SUG_CALLER_OWNED, SH_SUG_BOUNDED_BUFFER,
   SH_SUG_RESERVE, SH_SUG_HOIST, SH_SUG_POOL, SH_SUG_REMOVE_ESCAPE,
   SH_SUG_SPLIT_PATHS,
   SH_N_SUG_KINDS
} ShSugKind;
extern const HChar* const SH_(sug_kind_name)[SH_N_SUG_KINDS];

typedef struct {
   ShSugKind kind;
   Site*  site;          /* the largest site it covers */
   XArray* sites;        /* of Site*: every site through its location */
   ShFrameDesc loc;      /* the source line it is about (strings owned) */
   HChar* text;          /* one sentence, VG_(malloc)'d */
   ULong  saved_calls;
   ULong  saved_bytes;
   ULong  stack_cost;
   const HChar* difficulty;   /* "easy" | "medium" | "hard" */
} Suggestion;

typedef enum { SH_SEV_LOW = 0, SH_SEV_MEDIUM, SH_SEV_HIGH, SH_SEV_CRITICAL } ShSeverity;
extern const HChar* const SH_(severity_name)[4];
ShSeverity SH_(severity_of)(const Site* s);

/* Build suggestions for all sites; result is an XArray of Suggestion,
   ordered by saving. */
XArray* SH_(make_suggestions)(Site** sorted, UInt n);
void    SH_(free_suggestions)(XArray* sugs);
ULong   SH_(site_calls_saved)(const Site* s, XArray* sugs);

/*------------------------------------------------------------*/
/*--- Reports (sh_report_text.c, sh_report_json.c)         ---*/
/*------------------------------------------------------------*/

/* Everything a report needs, computed once at exit (or at a dump). */
typedef struct {
   Site**  sites;        /* sorted, ids assigned */
   UInt    n_sites;
   XArray* suggestions;
   ULong   eligible_blocks, eligible_bytes;
   ULong   frames_pushed;
   Int     max_stack_depth;
   ULong   max_stack_bytes;
   const HChar* label;   /* dump label, NULL at exit */
} Report;

void SH_(build_report)(Report* r, const HChar* label);
void SH_(free_report)(Report* r);
ULong SH_(site_eligible_blocks)(const Site* s);
ULong SH_(site_eligible_bytes)(const Site* s);
/* Where a site's blocks were freed, by source line: an XArray of
   FreeSite, most frequent first, at most SH_MAX_FREE_SITES (sh_report.c). */
typedef struct {
   ShFrameDesc d;
   ULong blocks;
} FreeSite;
#define SH_MAX_FREE_SITES 5
XArray* SH_(site_free_sites)(const Site* s);
void    SH_(free_free_sites)(XArray* fs);
void SH_(write_text_report)(const Report* r);
/* Returns False (after saying why on the log) when the file can't be written. */
Bool SH_(write_json_report)(const Report* r, const HChar* path);
/* The sites as an execution tree in callgrind format (sh_xtree.c). */
void SH_(write_xtree_report)(const Report* r, const HChar* path);
/* Threshold checks; returns True when one was crossed (warnings printed). */
Bool SH_(check_thresholds)(const Report* r);

/*------------------------------------------------------------*/
/*--- Sanity checks (--sanity-level; each file its own)    ---*/
/*------------------------------------------------------------*/

/* Each returns False, after naming the broken invariant on the log, when
   the shadow state is inconsistent.  The cheap ones are O(1) and run
   often (--sanity-level=1 and up); the full ones walk everything. */
Bool SH_(threads_sane)(Bool full);
Bool SH_(blocks_sane)(void);
Bool SH_(alloc_sane)(Bool full);
Bool SH_(sites_sane)(void);
#define SH_SANE(cond, ...)                                              \
   do { if (UNLIKELY(!(cond))) {                                        \
      VG_(dmsg)("stackheap: sanity check failed: " __VA_ARGS__);        \
      VG_(dmsg)("   (%s, %s:%d)\n", #cond, __FILE__, __LINE__);          \
      return False; } } while (0)

/*------------------------------------------------------------*/
/*--- Instrumentation (sh_instrument.c)                    ---*/
/*------------------------------------------------------------*/

#include "pub_tool_tooliface.h"

void  SH_(instrument_init)(void);   /* after the options, before any translation */
IRSB* SH_(instrument)(VgCallbackClosure* closure, IRSB* sbIn,
                      const VexGuestLayout* layout, const VexGuestExtents* vge,
                      const VexArchInfo* archinfo_host, IRType gWordTy, IRType hWordTy);
/* Adds the instructions thread tid has run since its last fold to
   SH_(instrs) (called when it stops running generated code). */
void  SH_(fold_instr_count)(ThreadId tid);
Bool  SH_(instr_counts_sane)(void);   /* --sanity-level checks */
/* The store filter's bounds as generated code reads them, in shadow
   area 1 of the thread SH_(cur_ts) names (sh_instrument.c explains): the
   heap bounds (copies of SH_(heap_lo), heap_span) and the innermost
   frame's range (SH_(top_filter_range); on_call writes it through the
   guest-state pointer its call passes). */
typedef struct ShFilterCopy_ { Addr heap_lo, heap_span, top_lo, top_span; } ShFilterCopy;
#define SH_FILTER_COPY_OFF 24   /* byte offset in shadow area 1 (after the counter) */
/* The instruction counter's offset in shadow area 1 (sh_instrument.c). */
#define SH_COUNTER_SHADOW_OFF 16   /* (= OFFSET_amd64_RAX: unused by the tool otherwise) */
/* The filter copy and the counter in the shadow state of the thread whose
   guest state starts at gs, for helpers given the guest-state pointer
   (shadow area 1 follows the guest state).  Volatile: two 8-byte stores,
   which the generated code's 8-byte loads can forward from; gcc would
   otherwise merge them into one 16-byte vector store. */
#include "libvex_guest_amd64.h"
static inline volatile ShFilterCopy* SH_(filter_copy_at)(UChar* gs)
{
   return (volatile ShFilterCopy*)(gs + sizeof(VexGuestAMD64State) + SH_FILTER_COPY_OFF);
}
static inline ULong* SH_(instr_counter_at)(UChar* gs)
{
   return (ULong*)(gs + sizeof(VexGuestAMD64State) + SH_COUNTER_SHADOW_OFF);
}
/* The rest of a forward `rep movs` in one call (sh_strmove.c): 1 when done. */
VG_REGPARM(3) UWord SH_(rep_movs)(UChar* gs, Addr ip, UWord size);
extern ULong SH_(n_rep_movs_batched);
void  SH_(filter_copy_set)(Addr top_lo, Addr top_span);   /* and the heap bounds */
void  SH_(filter_copy_heap_changed)(void);
Bool  SH_(filter_copy_sane)(void);

#endif /* SH_GLOBAL_H */
