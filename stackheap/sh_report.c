/*--------------------------------------------------------------------*/
/*--- stackheap: the report model shared by both writers.          ---*/
/*---                                                  sh_report.c ---*/
/*--------------------------------------------------------------------*/

/* At exit (or at a dump) the sites are ranked, numbered and given their
   suggestions once; the text and JSON writers only format the result. */

#include "pub_tool_options.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"
#include "sh_vgapi.h"

const HChar* const SH_(class_name)[SH_N_CLASSES] = {
   "global", "thread", "heap", "never_freed", "outlived", "too_large", "frame", "caller"
};

/* The order classes are shown in, in both reports: eligible ones first,
   as the format document lists them. */
const Int SH_(class_report_order)[SH_N_CLASSES] = {
   SH_CLASS_FRAME, SH_CLASS_CALLER, SH_CLASS_TOO_LARGE, SH_CLASS_GLOBAL,
   SH_CLASS_HEAP, SH_CLASS_THREAD, SH_CLASS_OUTLIVED, SH_CLASS_NEVER_FREED
};

ULong SH_(site_eligible_blocks)(const Site* s)
{
   return s->classes[SH_CLASS_FRAME] + s->classes[SH_CLASS_CALLER];
}

ULong SH_(site_eligible_bytes)(const Site* s)
{
   return s->cls_bytes[SH_CLASS_FRAME] + s->cls_bytes[SH_CLASS_CALLER];
}

XArray* SH_(site_free_sites)(const Site* s)
{
   XArray* fs = VG_(newXA)(VG_(malloc), "sh.freesites", VG_(free), sizeof(FreeSite));
   Word i, j;
   if (s->free_ips != NULL) {
      for (i = 0; i < VG_(sizeXA)(s->free_ips); i++) {
         const FreeIp* f = VG_(indexXA)(s->free_ips, i);
         FreeSite fresh;
         SH_(describe_code_loc)(f->ip, &fresh.d);
         fresh.blocks = f->blocks;
         /* one entry per source line */
         for (j = 0; j < VG_(sizeXA)(fs); j++) {
            FreeSite* g = VG_(indexXA)(fs, j);
            if (g->d.line == fresh.d.line && VG_(strcmp)(g->d.fn, fresh.d.fn) == 0
                && ((g->d.file == NULL && fresh.d.file == NULL)
                    || (g->d.file && fresh.d.file
                        && VG_(strcmp)(g->d.file, fresh.d.file) == 0)))
               break;
         }
         if (j < VG_(sizeXA)(fs)) {
            ((FreeSite*)VG_(indexXA)(fs, j))->blocks += fresh.blocks;
            SH_(clear_frame_desc)(&fresh.d);
         } else {
            VG_(addToXA)(fs, &fresh);
         }
      }
   }
   /* most blocks first; ties by line then name (stable over runs) */
   for (i = 0; i < VG_(sizeXA)(fs); i++) {
      Word best = i;
      for (j = i + 1; j < VG_(sizeXA)(fs); j++) {
         FreeSite* a = VG_(indexXA)(fs, j);
         FreeSite* b = VG_(indexXA)(fs, best);
         if (a->blocks > b->blocks || (a->blocks == b->blocks
             && (a->d.line < b->d.line
                 || (a->d.line == b->d.line && VG_(strcmp)(a->d.fn, b->d.fn) < 0))))
            best = j;
      }
      if (best != i) {
         FreeSite t = *(FreeSite*)VG_(indexXA)(fs, i);
         *(FreeSite*)VG_(indexXA)(fs, i) = *(FreeSite*)VG_(indexXA)(fs, best);
         *(FreeSite*)VG_(indexXA)(fs, best) = t;
      }
   }
   while (VG_(sizeXA)(fs) > SH_MAX_FREE_SITES) {
      SH_(clear_frame_desc)(&((FreeSite*)VG_(indexXA)(fs, VG_(sizeXA)(fs) - 1))->d);
      VG_(dropTailXA)(fs, 1);
   }
   return fs;
}

void SH_(free_free_sites)(XArray* fs)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(fs); i++)
      SH_(clear_frame_desc)(&((FreeSite*)VG_(indexXA)(fs, i))->d);
   VG_(deleteXA)(fs);
}

static XArray* sort_sugs;   /* suggestions consulted by the comparator */

static ULong sort_key(const Site* s)
{
   switch (SH_(clo_sort_by)) {
   case SH_SORT_BYTES:           return s->bytes;
   case SH_SORT_ELIGIBLE_BLOCKS: return SH_(site_eligible_blocks)(s);
   case SH_SORT_ELIGIBLE_BYTES:  return SH_(site_eligible_bytes)(s);
   case SH_SORT_CALLS_SAVED:     return SH_(site_calls_saved)(s, sort_sugs);
   default:                      return s->blocks;
   }
}

/* Descending by the key; ties broken by bytes, then blocks, then the
   time of the first block (deterministic: instructions, not addresses). */
static Int cmp_sites(const void* a, const void* b)
{
   const Site* x = *(Site* const*)a;
   const Site* y = *(Site* const*)b;
   ULong kx = sort_key(x), ky = sort_key(y);
   if (kx != ky) return kx > ky ? -1 : 1;
   if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
   if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
   if (x->first_time != y->first_time) return x->first_time < y->first_time ? -1 : 1;
   return 0;
}

void SH_(build_report)(Report* r, const HChar* label)
{
   UInt i, n = SH_(n_sites)(), k = 0;
   ThreadId t;
   VG_(memset)(r, 0, sizeof(*r));
   r->label = label;
   r->sites = VG_(malloc)("sh.report.sites", (n + 1) * sizeof(Site*));
   for (i = 0; i < n; i++) {
      Site* s = SH_(site_at)(i);
      if (s->blocks == 0) continue;
      tl_assert(k < n && s->n_ips >= 1);
      r->sites[k++] = s;
      r->eligible_blocks += SH_(site_eligible_blocks)(s);
      r->eligible_bytes += SH_(site_eligible_bytes)(s);
   }
   r->n_sites = k;
   tl_assert(r->eligible_blocks <= SH_(total_blocks));
   /* Suggestions need ids only for output; rank by a neutral order first
      so that calls-saved sorting can see them. */
   VG_(ssort)(r->sites, k, sizeof(Site*), cmp_sites);
   for (i = 0; i < k; i++) r->sites[i]->id = i + 1;
   r->suggestions = SH_(make_suggestions)(r->sites, k);
   if (SH_(clo_sort_by) == SH_SORT_CALLS_SAVED) {
      sort_sugs = r->suggestions;
      VG_(ssort)(r->sites, k, sizeof(Site*), cmp_sites);
      sort_sugs = NULL;
      for (i = 0; i < k; i++) r->sites[i]->id = i + 1;
      VG_(sortXA)(r->suggestions);   /* its tie-break uses the ids */
   }
   for (t = 1; t <= SH_(max_tid)(); t++) {
      ThreadState* ts = SH_(thread_if_any)(t);
      if (ts == NULL) continue;
      r->frames_pushed += ts->frames_pushed;
      if (ts->max_depth > r->max_stack_depth) {
         r->max_stack_depth = ts->max_depth;
         r->max_stack_bytes = ts->max_stack_bytes;
      }
   }
}

void SH_(free_report)(Report* r)
{
   VG_(free)(r->sites);
   SH_(free_suggestions)(r->suggestions);
}

/* Integer arithmetic only: rates are printed, never accumulated. */
Bool SH_(check_thresholds)(const Report* r)
{
   Bool crossed = False;
   ULong blocks = SH_(total_blocks);
   if (SH_(clo_max_escape_rate) >= 0.0 && blocks > 0) {
      /* Compared in integers (parts per million), so that a rate equal to
         the limit (3 of 10 blocks against 0.3) never crosses it. */
      ULong escaped = blocks - r->eligible_blocks;
      ULong lim_ppm = (ULong)(SH_(clo_max_escape_rate) * 1000000.0 + 0.5);
      if (escaped * 1000000ULL > lim_ppm * blocks) {
         Double rate = (Double)escaped / (Double)blocks;
         ULong pm = (ULong)(rate * 1000.0 + 0.5);
         ULong lim = (ULong)(SH_(clo_max_escape_rate) * 1000.0 + 0.5);
         VG_(umsg)("stackheap: THRESHOLD CROSSED: escape rate %llu.%03llu > --max-escape-rate=%llu.%03llu "
                   "(%llu of %llu blocks could not live on the stack)\n",
                   pm / 1000, pm % 1000, lim / 1000, lim % 1000,
                   blocks - r->eligible_blocks, blocks);
         crossed = True;
      }
   }
   if (SH_(clo_max_alloc_rate) >= 0 && SH_(instrs) > 0) {
      /* Exactly "more than N blocks per million instructions"
         (blocks / instrs > N / 10^6); the rate is printed to one decimal,
         rounded down. */
      ULong rate10 = (ULong)((Double)blocks * 10000000.0 / (Double)SH_(instrs));
      if ((Double)blocks * 1000000.0
          > (Double)SH_(clo_max_alloc_rate) * (Double)SH_(instrs)) {
         VG_(umsg)("stackheap: THRESHOLD CROSSED: %llu.%llu blocks per million instructions "
                   "> --max-alloc-rate=%lld (%llu blocks in %llu instructions)\n",
                   rate10 / 10, rate10 % 10, SH_(clo_max_alloc_rate), blocks, SH_(instrs));
         crossed = True;
      }
   }
   if (SH_(clo_max_eligible_blocks) >= 0
       && r->eligible_blocks > (ULong)SH_(clo_max_eligible_blocks)) {
      VG_(umsg)("stackheap: THRESHOLD CROSSED: %llu blocks could have lived on the stack "
                "> --max-eligible-blocks=%lld\n",
                r->eligible_blocks, SH_(clo_max_eligible_blocks));
      crossed = True;
   }
   if (crossed && SH_VG_ERROR_EXITCODE() == 0)
      VG_(umsg)("stackheap: (use --error-exitcode=<N> to make crossed thresholds fail the run)\n");
   return crossed;
}
