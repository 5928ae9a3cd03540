/*--------------------------------------------------------------------*/
/*--- stackheap: the JSON report.                sh_report_json.c  ---*/
/*--------------------------------------------------------------------*/

/* Format "stackheap-2", specified in docs/report-format.md.  Nothing in
   it depends on addresses or timing: two runs of the same binary on the
   same input write the same file except for "pid".  Fields added beyond
   the contract: totals.bad_frees, totals.off_stack_blocks (blocks allocated
   while running on a stack the tool cannot follow), totals.max_stack_bytes,
   threads (per thread: calls, deepest shadow stack and its stack bytes),
   sites[].live_blocks (blocks not freed when the report was written, of
   any class: a never-freed block that escaped is `global`, not
   `never_freed`),
   sites[].phase, phases, label (dumps), sites[].stack_eligible_bytes (bytes
   of its frame + caller blocks: the HTML page's icicle), options."xtree-out-file",
   sites[].home_pins (what put a home above the allocating function: a store
   into it or the free). */

#include "pub_tool_clientstate.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_options.h"
#include "sh_global.h"

static VgFile* out;

static void put_str(const HChar* s)
{
   const UChar* p;
   VG_(fprintf)(out, "\"");
   for (p = (const UChar*)s; *p; p++) {
      switch (*p) {
      case '"':  VG_(fprintf)(out, "\\\""); break;
      case '\\': VG_(fprintf)(out, "\\\\"); break;
      case '\n': VG_(fprintf)(out, "\\n"); break;
      case '\t': VG_(fprintf)(out, "\\t"); break;
      case '\r': VG_(fprintf)(out, "\\r"); break;
      default:
         if (*p < 0x20) VG_(fprintf)(out, "\\u%04x", *p);
         else VG_(fprintf)(out, "%c", *p);
      }
   }
   VG_(fprintf)(out, "\"");
}

/* A ratio in [0,1] with six decimals, from integers. */
static void put_ratio(ULong num, ULong den)
{
   ULong m = den ? (num * 1000000ULL + den / 2) / den : 0;
   VG_(fprintf)(out, "%llu.%06llu", m / 1000000ULL, m % 1000000ULL);
}

static void put_classes(const ULong* c)
{
   Int i;
   const Int* order = SH_(class_report_order);
   VG_(fprintf)(out, "{");
   for (i = 0; i < SH_N_CLASSES; i++)
      VG_(fprintf)(out, "%s\"%s\": %llu", i ? ", " : "", SH_(class_name)[order[i]],
                   c[order[i]]);
   VG_(fprintf)(out, "}");
}

static void put_frame(const ShFrameDesc* d)
{
   VG_(fprintf)(out, "{\"fn\": ");
   put_str(d->fn);
   if (d->file) {
      VG_(fprintf)(out, ", \"file\": ");
      put_str(d->file);
      VG_(fprintf)(out, ", \"line\": %u", d->line);
   }
   if (d->obj) {
      VG_(fprintf)(out, ", \"obj\": ");
      put_str(d->obj);
   }
   VG_(fprintf)(out, "}");
}

static void put_code_loc(Addr ip)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.json.loc", VG_(free), sizeof(ShFrameDesc));
   SH_(describe_ip)(ip, xa);
   put_frame(VG_(indexXA)(xa, 0));
   SH_(free_frame_descs)(xa);
}

static void put_options(void)
{
   UInt i;
   VG_(fprintf)(out, "{\"depth\": %d, \"top\": %d, \"sort-by\": \"%s\", ",
                SH_(clo_depth), SH_(clo_top), SH_(sort_by_name)(SH_(clo_sort_by)));
   VG_(fprintf)(out, "\"alloc-fn\": [");
   for (i = 0; i < SH_(n_alloc_fns)(); i++) {
      if (i) VG_(fprintf)(out, ", ");
      put_str(SH_(alloc_fn)(i));
   }
   VG_(fprintf)(out, "], \"json-out-file\": ");
   put_str(SH_(clo_json_out_file));
   VG_(fprintf)(out, ", \"xtree-out-file\": ");
   put_str(SH_(clo_xtree_out_file));
   VG_(fprintf)(out, ", \"max-stack-block\": %llu, \"stack-budget\": %llu, "
                "\"collect-atstart\": %s, ",
                SH_(clo_max_stack_block), SH_(clo_stack_budget),
                SH_(clo_collect_atstart) ? "true" : "false");
   VG_(fprintf)(out, "\"max-escape-rate\": ");
   if (SH_(clo_max_escape_rate) >= 0.0)
      put_ratio((ULong)(SH_(clo_max_escape_rate) * 1000000.0 + 0.5), 1000000ULL);
   else
      VG_(fprintf)(out, "null");
   VG_(fprintf)(out, ", \"max-alloc-rate\": ");
   if (SH_(clo_max_alloc_rate) >= 0) VG_(fprintf)(out, "%lld", SH_(clo_max_alloc_rate));
   else VG_(fprintf)(out, "null");
   VG_(fprintf)(out, ", \"max-eligible-blocks\": ");
   if (SH_(clo_max_eligible_blocks) >= 0) VG_(fprintf)(out, "%lld", SH_(clo_max_eligible_blocks));
   else VG_(fprintf)(out, "null");
   VG_(fprintf)(out, "}");
}

static void put_command(void)
{
   Word i;
   {
      Word len = VG_(strlen)(VG_(args_the_exename)) + 1;
      HChar* cmd;
      for (i = 0; i < VG_(sizeXA)(VG_(args_for_client)); i++)
         len += VG_(strlen)(*(HChar**)VG_(indexXA)(VG_(args_for_client), i)) + 1;
      cmd = VG_(malloc)("sh.json.cmd", len + 1);
      VG_(strcpy)(cmd, VG_(args_the_exename));
      for (i = 0; i < VG_(sizeXA)(VG_(args_for_client)); i++) {
         VG_(strcat)(cmd, " ");
         VG_(strcat)(cmd, *(HChar**)VG_(indexXA)(VG_(args_for_client), i));
      }
      put_str(cmd);
      VG_(free)(cmd);
   }
}

/* Homes with the same depth and function name are one home (a signal
   handler's pseudo-frame is named by an address inside it). */
static void put_homes(const Site* s)
{
   Word i, j, n = VG_(sizeXA)(s->homes);
   HChar** names = VG_(malloc)("sh.json.homes", (n + 1) * sizeof(HChar*));
   ULong* blocks = VG_(malloc)("sh.json.homes", (n + 1) * sizeof(ULong));
   Bool* done = VG_(calloc)("sh.json.homes", n + 1, sizeof(Bool));
   HChar buf[256];
   Bool first = True;
   for (i = 0; i < n; i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      SH_(fn_name)(h->fn, buf, sizeof buf);
      names[i] = VG_(strdup)("sh.json.homes", buf);
   }
   for (i = 0; i < n; i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      blocks[i] = h->blocks;
      for (j = i + 1; j < n; j++) {
         const Home* g = VG_(indexXA)(s->homes, j);
         if (!done[j] && g->depth == h->depth && VG_(strcmp)(names[i], names[j]) == 0) {
            blocks[i] += g->blocks;
            done[j] = True;
         }
      }
   }
   VG_(fprintf)(out, "[");
   /* Most blocks first; ties: shallower first (stable over runs). */
   for (;;) {
      Word best = -1;
      for (i = 0; i < n; i++) {
         const Home* h;
         if (done[i]) continue;
         h = VG_(indexXA)(s->homes, i);
         if (best < 0 || blocks[i] > blocks[best]
             || (blocks[i] == blocks[best]
                 && h->depth < ((const Home*)VG_(indexXA)(s->homes, best))->depth))
            best = i;
      }
      if (best < 0) break;
      done[best] = True;
      VG_(fprintf)(out, "%s{\"depth\": %d, \"fn\": ", first ? "" : ", ",
                   ((const Home*)VG_(indexXA)(s->homes, best))->depth);
      put_str(names[best]);
      VG_(fprintf)(out, ", \"blocks\": %llu}", blocks[best]);
      first = False;
   }
   VG_(fprintf)(out, "]");
   for (i = 0; i < n; i++) VG_(free)(names[i]);
   VG_(free)(names); VG_(free)(blocks); VG_(free)(done);
}

/* What put each home above the allocating function there (homes at
   depth >= 1 only): the store of the block's address into that frame, or
   the free after the frames in between returned. */
static void put_home_pins(const Site* s)
{
   Word i;
   HChar buf[256];
   Bool first = True;
   VG_(fprintf)(out, "[");
   for (i = 0; i < VG_(sizeXA)(s->homes); i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      if (h->depth == 0 || h->pin == SH_PIN_NONE) continue;
      SH_(fn_name)(h->fn, buf, sizeof buf);
      VG_(fprintf)(out, "%s{\"depth\": %d, \"fn\": ", first ? "" : ", ", h->depth);
      put_str(buf);
      VG_(fprintf)(out, ", \"by\": \"%s\", \"at\": ", h->pin == SH_PIN_STORE ? "store" : "free");
      put_code_loc(h->pin_ip);
      VG_(fprintf)(out, "}");
      first = False;
   }
   VG_(fprintf)(out, "]");
}

static void put_site(const Site* s)
{
   XArray* frames = SH_(describe_site_stack)(s);
   Word i;
   VG_(fprintf)(out, "    {\"id\": %u, \"stack\": [", s->id);
   for (i = 0; i < VG_(sizeXA)(frames); i++) {
      if (i) VG_(fprintf)(out, ", ");
      put_frame(VG_(indexXA)(frames, i));
   }
   SH_(free_frame_descs)(frames);
   VG_(fprintf)(out, "],\n     \"blocks\": %llu, \"bytes\": %llu, \"min_size\": %llu, "
                "\"max_size\": %llu, \"stack_eligible_bytes\": %llu,\n     \"classes\": ",
                s->blocks, s->bytes, s->min_size, s->max_size, SH_(site_eligible_bytes)(s));
   put_classes(s->classes);
   VG_(fprintf)(out, ",\n     \"homes\": ");
   put_homes(s);
   VG_(fprintf)(out, ",\n     \"home_pins\": ");
   put_home_pins(s);
   VG_(fprintf)(out, ",\n     \"first_escape\": ");
   if (s->first_escape.valid) {
      VG_(fprintf)(out, "{\"class\": \"%s\", \"at\": ", SH_(class_name)[s->first_escape.cls]);
      put_code_loc(s->first_escape.store_ip);
      VG_(fprintf)(out, ", \"target\": ");
      put_str(s->first_escape.target);
      VG_(fprintf)(out, "}");
   } else {
      VG_(fprintf)(out, "null");
   }
   VG_(fprintf)(out, ",\n     \"free_sites\": [");
   {
      XArray* fs = SH_(site_free_sites)(s);
      for (i = 0; i < VG_(sizeXA)(fs); i++) {
         const FreeSite* f = VG_(indexXA)(fs, i);
         if (i) VG_(fprintf)(out, ", ");
         VG_(fprintf)(out, "{\"fn\": ");
         put_str(f->d.fn);
         if (f->d.file) {
            VG_(fprintf)(out, ", \"file\": ");
            put_str(f->d.file);
            VG_(fprintf)(out, ", \"line\": %u", f->d.line);
         }
         VG_(fprintf)(out, ", \"blocks\": %llu}", f->blocks);
      }
      SH_(free_free_sites)(fs);
   }
   VG_(fprintf)(out, "]");
   VG_(fprintf)(out, ",\n     \"avg_lifetime_instrs\": %llu, \"max_live\": %llu, "
                "\"live_blocks\": %llu, \"reallocs\": %llu, \"severity\": \"%s\", \"phase\": ",
                s->freed ? s->lifetime_sum / s->freed : 0ULL, s->max_live,
                s->live + s->unfreed_at_exit, s->reallocs,
                SH_(severity_name)[SH_(severity_of)(s)]);
   if (s->phase >= 0) put_str(SH_(phase_at)(s->phase)->name);
   else VG_(fprintf)(out, "null");
   VG_(fprintf)(out, "}");
}

static void put_suggestion(const Suggestion* g)
{
   Word i;
   VG_(fprintf)(out, "    {\"kind\": \"%s\", \"location\": ", SH_(sug_kind_name)[g->kind]);
   put_frame(&g->loc);
   VG_(fprintf)(out, ", \"sites\": [");
   {
      /* ascending ids (--sort-by=calls-saved renumbers after grouping) */
      UInt last = 0, k, n = VG_(sizeXA)(g->sites);
      for (k = 0; k < n; k++) {
         UInt next = ~0U;
         for (i = 0; i < (Word)n; i++) {
            UInt id = (*(Site**)VG_(indexXA)(g->sites, i))->id;
            if (id > last && id < next) next = id;
         }
         VG_(fprintf)(out, "%s%u", k ? ", " : "", next);
         last = next;
      }
   }
   VG_(fprintf)(out, "], \"site\": %u,\n     \"text\": ", g->site->id);
   put_str(g->text);
   VG_(fprintf)(out, ",\n     \"saved_calls\": %llu, \"saved_bytes\": %llu, "
                "\"stack_cost\": %llu, \"difficulty\": \"%s\"}",
                g->saved_calls, g->saved_bytes, g->stack_cost, g->difficulty);
}

Bool SH_(write_json_report)(const Report* r, const HChar* path)
{
   UInt i;
   ULong blocks = SH_(total_blocks);
   out = VG_(fopen)(path, VKI_O_CREAT | VKI_O_TRUNC | VKI_O_WRONLY,
                    VKI_S_IRUSR | VKI_S_IWUSR | VKI_S_IRGRP | VKI_S_IROTH);
   if (out == NULL) {
      VG_(umsg)("stackheap: error: cannot write the JSON report to '%s' "
                "(--json-out-file); the text report above is complete\n", path);
      return False;
   }
   VG_(fprintf)(out, "{\"format\": \"stackheap-2\", \"version\": \"%s\",\n \"command\": ",
                SH_VERSION);
   put_command();
   VG_(fprintf)(out, ",\n \"pid\": %d,\n \"options\": ", VG_(getpid)());
   put_options();
   if (r->label) {
      VG_(fprintf)(out, ",\n \"label\": ");
      put_str(r->label);
   }
   VG_(fprintf)(out, ",\n \"totals\": {\"instructions\": %llu, \"blocks\": %llu, \"bytes\": %llu,\n"
                "  \"stack_eligible_blocks\": %llu, \"stack_eligible_bytes\": %llu, "
                "\"escape_rate\": ",
                SH_(instrs), blocks, SH_(total_bytes), r->eligible_blocks, r->eligible_bytes);
   put_ratio(blocks - r->eligible_blocks, blocks);
   VG_(fprintf)(out, ",\n  \"classes\": ");
   put_classes(SH_(total_classes));
   VG_(fprintf)(out, ",\n  \"frames\": %llu, \"max_stack_depth\": %d, \"max_stack_bytes\": %llu, "
                "\"peak_live_bytes\": %llu, \"bad_frees\": %llu, "
                "\"off_stack_blocks\": %llu},\n",
                r->frames_pushed, r->max_stack_depth, r->max_stack_bytes,
                SH_(peak_live_bytes), SH_(n_bad_frees), SH_(n_off_stack_blocks));
   VG_(fprintf)(out, " \"threads\": [");
   {
      ThreadId t;
      Bool first = True;
      for (t = 1; t <= SH_(max_tid)(); t++) {
         ThreadState* ts = SH_(thread_if_any)(t);
         if (ts == NULL) continue;
         VG_(fprintf)(out, "%s{\"tid\": %u, \"frames\": %llu, \"max_stack_depth\": %d, "
                      "\"max_stack_bytes\": %llu}", first ? "" : ", ", t,
                      ts->frames_pushed, ts->max_depth, ts->max_stack_bytes);
         first = False;
      }
   }
   VG_(fprintf)(out, "],\n");
   VG_(fprintf)(out, " \"phases\": [");
   for (i = 0; i < SH_(n_phases)(); i++) {
      Phase* p = SH_(phase_at)(i);
      VG_(fprintf)(out, "%s{\"name\": ", i ? ", " : "");
      put_str(p->name);
      VG_(fprintf)(out, ", \"blocks\": %llu, \"bytes\": %llu}", p->blocks, p->bytes);
   }
   VG_(fprintf)(out, "],\n \"sites\": [\n");
   for (i = 0; i < r->n_sites; i++) {
      put_site(r->sites[i]);
      VG_(fprintf)(out, i + 1 < r->n_sites ? ",\n" : "\n");
   }
   VG_(fprintf)(out, " ],\n \"suggestions\": [\n");
   for (i = 0; i < VG_(sizeXA)(r->suggestions); i++) {
      put_suggestion(VG_(indexXA)(r->suggestions, i));
      VG_(fprintf)(out, i + 1 < VG_(sizeXA)(r->suggestions) ? ",\n" : "\n");
   }
   VG_(fprintf)(out, " ]\n}\n");
   VG_(fclose)(out);
   out = NULL;
   return True;
}
