/*--------------------------------------------------------------------*/
/*--- stackheap: the allocation tree in callgrind format.          ---*/
/*---                                                  sh_xtree.c  ---*/
/*--------------------------------------------------------------------*/

/* --xtree-out-file=FILE writes the sites as an execution tree in the
   callgrind format, for KCachegrind/QCachegrind and callgrind_annotate,
   through the core's xtree module (pub_tool_xtree.h).  The tree is built
   from the report's sites when a report is written (at exit, at a dump or
   a monitor `report`), not during the run: the sites already hold every
   count, so the run pays nothing for it.  Each site's trimmed stack (the
   one the JSON shows, allocators and --alloc-fn wrappers removed) is a
   leaf; the core sums leaves into inclusive costs per function and line. */

#include "pub_tool_xtree.h"
#include "sh_global.h"

/* The events, in the order ShXtCosts holds them.  Names are the JSON's
   keys, so a reader can match the two; the text after " : " is what
   KCachegrind shows. */
#define SH_XT_N_EVENTS (4 + SH_N_CLASSES)

typedef struct {
   ULong v[SH_XT_N_EVENTS];  /* blocks, bytes, eligible blocks, eligible bytes,
                                then blocks per class in SH_(class_report_order) */
} ShXtCosts;

static const HChar* const class_desc[SH_N_CLASSES] = {
   [SH_CLASS_GLOBAL]      = "blocks stored in global memory",
   [SH_CLASS_THREAD]      = "blocks handed to another thread",
   [SH_CLASS_HEAP]        = "blocks held by a heap block that escaped",
   [SH_CLASS_NEVER_FREED] = "blocks never freed",
   [SH_CLASS_OUTLIVED]    = "blocks that outlived their allocation stack",
   [SH_CLASS_TOO_LARGE]   = "eligible blocks larger than --max-stack-block",
   [SH_CLASS_FRAME]       = "blocks that could have lived in the allocating frame",
   [SH_CLASS_CALLER]      = "blocks that could have lived in a caller's frame",
};

static void xt_init(void* value)
{
   VG_(memset)(value, 0, sizeof(ShXtCosts));
}

static void xt_add(void* to, const void* value)
{
   ShXtCosts* t = to;
   const ShXtCosts* v = value;
   Int i;
   for (i = 0; i < SH_XT_N_EVENTS; i++)
      t->v[i] += v->v[i];
}

static void xt_sub(void* from, const void* value)
{
   ShXtCosts* f = from;
   const ShXtCosts* v = value;
   Int i;
   for (i = 0; i < SH_XT_N_EVENTS; i++) {
      tl_assert(f->v[i] >= v->v[i]);
      f->v[i] -= v->v[i];
   }
}

/* The image of a leaf's costs (or of the totals): one integer per event.
   Never NULL: only sites with blocks are leaves, and an empty run still
   needs a "totals:" line of zeros.  The core prints it before asking for
   the next. */
static const HChar* xt_img(const void* value)
{
   static HChar buf[SH_XT_N_EVENTS * 22 + 1];
   const ShXtCosts* c = value;
   Int i, off = 0;
   for (i = 0; i < SH_XT_N_EVENTS; i++)
      off += VG_(sprintf)(buf + off, "%s%llu", i ? " " : "", c->v[i]);
   return buf;
}

static HChar* events_string(void)
{
   Int i, len = 0;
   HChar* s = VG_(malloc)("sh.xt.events", 2048);
   len += VG_(sprintf)(s + len, "blocks : heap blocks allocated,"
                       "bytes : bytes requested (largest size of a realloc'd block),"
                       "stack_eligible_blocks : blocks that could have lived on the stack,"
                       "stack_eligible_bytes : bytes of those blocks");
   for (i = 0; i < SH_N_CLASSES; i++) {
      Int c = SH_(class_report_order)[i];
      len += VG_(sprintf)(s + len, ",%s : %s", SH_(class_name)[c], class_desc[c]);
   }
   tl_assert(len < 2048);   /* constant text: about 700 characters */
   return s;
}

void SH_(write_xtree_report)(const Report* r, const HChar* path)
{
   XTree* xt = VG_(XT_create)(VG_(malloc), "sh.xt", VG_(free), sizeof(ShXtCosts),
                              xt_init, xt_add, xt_sub, NULL);
   HChar* events = events_string();
   UInt i;
   Int c;
   for (i = 0; i < r->n_sites; i++) {
      const Site* s = r->sites[i];
      ShXtCosts v;
      v.v[0] = s->blocks;
      v.v[1] = s->bytes;
      v.v[2] = SH_(site_eligible_blocks)(s);
      v.v[3] = SH_(site_eligible_bytes)(s);
      for (c = 0; c < SH_N_CLASSES; c++)
         v.v[4 + c] = s->classes[SH_(class_report_order)[c]];
      VG_(XT_add_to_ec)(xt, s->ec, &v);
   }
   /* (The core says on the log when the file cannot be opened.) */
   VG_(XT_callgrind_print)(xt, path, events, xt_img);
   VG_(XT_delete)(xt);
   VG_(free)(events);
}
