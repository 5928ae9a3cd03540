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
   sites[].pool (blocks of a memory pool: "created_at", the frame that
   created the pool, and "mixed", true when they also came from pools
   created elsewhere or from no pool; null for other sites),
   sites[].home_pins (what put a home above the allocating function: a store
   into it or the free). */

#include "pub_tool_clientstate.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_options.h"
#include "sh_global.h"

/* The file is written through our own buffer, not a VgFile: VG_(fclose)
   drops write errors, and a report that did not reach the disk (a full
   disk, /dev/full) must be said so. */
static Int   out_fd = -1;
static Int   out_err = 0;          /* first write error (an errno), 0 if none */
static HChar out_buf[16384];
static Int   out_len = 0;

static void flush_out(void)
{
   Int done = 0;
   while (done < out_len && out_err == 0) {
      Int n = VG_(write)(out_fd, out_buf + done, out_len - done);
      if (n < 0) out_err = -n;
      else if (n == 0) out_err = 5;   /* EIO: no progress */
      else done += n;
   }
   out_len = 0;
}

static void out_char(HChar c, void* opaque)
{
   if (out_len == sizeof out_buf) flush_out();
   out_buf[out_len++] = c;
}

static void jprintf(const HChar* format, ...) PRINTF_CHECK(1, 2);
static void jprintf(const HChar* format, ...)
{
   va_list vargs;
   va_start(vargs, format);
   VG_(vcbprintf)(out_char, NULL, format, vargs);
   va_end(vargs);
}

static const HChar* errno_text(Int e)
{
   switch (e) {
   case 2:   return "no such file or directory";
   case 5:   return "input/output error";
   case 13:  return "permission denied";
   case 17:  return "file exists";
   case 20:  return "a component of the path is not a directory";
   case 21:  return "is a directory";
   case 27:  return "file too large";
   case 28:  return "no space left on device";
   case 30:  return "read-only file system";
   case 36:  return "file name too long";
   case 122: return "disk quota exceeded";
   default:  return "write error";
   }
}

/* Length of the well-formed UTF-8 sequence at p (1..4), 0 if it is not
   one (stray continuation, overlong form, surrogate, above U+10FFFF,
   truncated). */
static Int utf8_len(const UChar* p)
{
   UInt c = p[0], n, i, cp, min;
   if (c < 0x80) return 1;
   if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
   else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
   else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
   else return 0;
   for (i = 1; i < n; i++) {
      if ((p[i] & 0xC0) != 0x80) return 0;   /* also stops at the NUL */
      cp = (cp << 6) | (p[i] & 0x3F);
   }
   if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
   return n;
}

/* A JSON string.  Names come from the program (argv, its path, symbol
   and file names) and need not be UTF-8: a byte that does not start a
   well-formed sequence is written as U+FFFD, so the file always parses. */
static void put_str(const HChar* s)
{
   const UChar* p = (const UChar*)s;
   jprintf("\"");
   while (*p) {
      Int n;
      switch (*p) {
      case '"':  jprintf("\\\""); p++; continue;
      case '\\': jprintf("\\\\"); p++; continue;
      case '\n': jprintf("\\n"); p++; continue;
      case '\t': jprintf("\\t"); p++; continue;
      case '\r': jprintf("\\r"); p++; continue;
      default: break;
      }
      if (*p < 0x20) { jprintf("\\u%04x", *p); p++; continue; }
      n = utf8_len(p);
      if (n == 0) { jprintf("\\ufffd"); p++; continue; }
      while (n-- > 0) out_char(*p++, NULL);
   }
   jprintf("\"");
}

/* A ratio in [0,1] with six decimals, from integers. */
static void put_ratio(ULong num, ULong den)
{
   ULong m = den ? (num * 1000000ULL + den / 2) / den : 0;
   jprintf("%llu.%06llu", m / 1000000ULL, m % 1000000ULL);
}

static void put_classes(const ULong* c)
{
   Int i;
   const Int* order = SH_(class_report_order);
   jprintf("{");
   for (i = 0; i < SH_N_CLASSES; i++)
      jprintf("%s\"%s\": %llu", i ? ", " : "", SH_(class_name)[order[i]],
                   c[order[i]]);
   jprintf("}");
}

static void put_frame(const ShFrameDesc* d)
{
   jprintf("{\"fn\": ");
   put_str(d->fn);
   if (d->file) {
      jprintf(", \"file\": ");
      put_str(d->file);
      jprintf(", \"line\": %u", d->line);
   }
   if (d->obj) {
      jprintf(", \"obj\": ");
      put_str(d->obj);
   }
   jprintf("}");
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
   jprintf("{\"depth\": %d, \"top\": %d, \"sort-by\": \"%s\", ",
                SH_(clo_depth), SH_(clo_top), SH_(sort_by_name)(SH_(clo_sort_by)));
   jprintf("\"alloc-fn\": [");
   for (i = 0; i < SH_(n_alloc_fns)(); i++) {
      if (i) jprintf(", ");
      put_str(SH_(alloc_fn)(i));
   }
   jprintf("], \"json-out-file\": ");
   put_str(SH_(clo_json_out_file));
   jprintf(", \"xtree-out-file\": ");
   put_str(SH_(clo_xtree_out_file));
   jprintf(", \"max-stack-block\": %llu, \"stack-budget\": %llu, "
                "\"collect-atstart\": %s, ",
                SH_(clo_max_stack_block), SH_(clo_stack_budget),
                SH_(clo_collect_atstart) ? "true" : "false");
   jprintf("\"max-escape-rate\": ");
   if (SH_(clo_max_escape_rate) >= 0.0)
      put_ratio((ULong)(SH_(clo_max_escape_rate) * 1000000.0 + 0.5), 1000000ULL);
   else
      jprintf("null");
   jprintf(", \"max-alloc-rate\": ");
   if (SH_(clo_max_alloc_rate) >= 0) jprintf("%lld", SH_(clo_max_alloc_rate));
   else jprintf("null");
   jprintf(", \"max-eligible-blocks\": ");
   if (SH_(clo_max_eligible_blocks) >= 0) jprintf("%lld", SH_(clo_max_eligible_blocks));
   else jprintf("null");
   jprintf("}");
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
   Bool first = True;
   for (i = 0; i < n; i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      names[i] = SH_(fn_name_dup)(h->fn);
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
   jprintf("[");
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
      jprintf("%s{\"depth\": %d, \"fn\": ", first ? "" : ", ",
                   ((const Home*)VG_(indexXA)(s->homes, best))->depth);
      put_str(names[best]);
      jprintf(", \"blocks\": %llu}", blocks[best]);
      first = False;
   }
   jprintf("]");
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
   jprintf("[");
   for (i = 0; i < VG_(sizeXA)(s->homes); i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      if (h->depth == 0 || h->pin == SH_PIN_NONE) continue;
      SH_(fn_name)(h->fn, buf, sizeof buf);
      jprintf("%s{\"depth\": %d, \"fn\": ", first ? "" : ", ", h->depth);
      put_str(buf);
      jprintf(", \"by\": \"%s\", \"at\": ", h->pin == SH_PIN_STORE ? "store" : "free");
      put_code_loc(h->pin_ip);
      jprintf("}");
      first = False;
   }
   jprintf("]");
}

static void put_site(const Site* s)
{
   XArray* frames = SH_(describe_site_stack)(s);
   Word i;
   jprintf("    {\"id\": %u, \"stack\": [", s->id);
   for (i = 0; i < VG_(sizeXA)(frames); i++) {
      if (i) jprintf(", ");
      put_frame(VG_(indexXA)(frames, i));
   }
   SH_(free_frame_descs)(frames);
   jprintf("],\n     \"blocks\": %llu, \"bytes\": %llu, \"min_size\": %llu, "
                "\"max_size\": %llu, \"stack_eligible_bytes\": %llu,\n     \"classes\": ",
                s->blocks, s->bytes, s->min_size, s->max_size, SH_(site_eligible_bytes)(s));
   put_classes(s->classes);
   jprintf(",\n     \"homes\": ");
   put_homes(s);
   jprintf(",\n     \"home_pins\": ");
   put_home_pins(s);
   jprintf(",\n     \"first_escape\": ");
   if (s->first_escape.valid) {
      jprintf("{\"class\": \"%s\", \"at\": ", SH_(class_name)[s->first_escape.cls]);
      put_code_loc(s->first_escape.store_ip);
      jprintf(", \"target\": ");
      put_str(s->first_escape.target);
      jprintf("}");
   } else {
      jprintf("null");
   }
   jprintf(",\n     \"free_sites\": [");
   {
      XArray* fs = SH_(site_free_sites)(s);
      for (i = 0; i < VG_(sizeXA)(fs); i++) {
         const FreeSite* f = VG_(indexXA)(fs, i);
         if (i) jprintf(", ");
         jprintf("{\"fn\": ");
         put_str(f->d.fn);
         if (f->d.file) {
            jprintf(", \"file\": ");
            put_str(f->d.file);
            jprintf(", \"line\": %u", f->d.line);
         }
         jprintf(", \"blocks\": %llu}", f->blocks);
      }
      SH_(free_free_sites)(fs);
   }
   jprintf("]");
   jprintf(",\n     \"avg_lifetime_instrs\": %llu, \"max_live\": %llu, "
                "\"live_blocks\": %llu, \"reallocs\": %llu, \"severity\": \"%s\", \"phase\": ",
                s->freed ? s->lifetime_sum / s->freed : 0ULL, s->max_live,
                s->live + s->unfreed_at_exit, s->reallocs,
                SH_(severity_name)[SH_(severity_of)(s)]);
   if (s->phase >= 0) put_str(SH_(phase_at)(s->phase)->name);
   else jprintf("null");
   jprintf(", \"pool\": ");
   if (s->pool_ip != 0) {
      jprintf("{\"created_at\": ");
      put_code_loc(s->pool_ip);
      jprintf(", \"mixed\": %s}", s->pool_mixed ? "true" : "false");
   } else {
      jprintf("null");
   }
   jprintf("}");
}

static void put_suggestion(const Suggestion* g)
{
   Word i;
   jprintf("    {\"kind\": \"%s\", \"location\": ", SH_(sug_kind_name)[g->kind]);
   put_frame(&g->loc);
   jprintf(", \"sites\": [");
   {
      /* ascending ids (--sort-by=calls-saved renumbers after grouping) */
      UInt last = 0, k, n = VG_(sizeXA)(g->sites);
      for (k = 0; k < n; k++) {
         UInt next = ~0U;
         for (i = 0; i < (Word)n; i++) {
            UInt id = (*(Site**)VG_(indexXA)(g->sites, i))->id;
            if (id > last && id < next) next = id;
         }
         jprintf("%s%u", k ? ", " : "", next);
         last = next;
      }
   }
   jprintf("], \"site\": %u,\n     \"text\": ", g->site->id);
   put_str(g->text);
   jprintf(",\n     \"saved_calls\": %llu, \"saved_bytes\": %llu, "
                "\"stack_cost\": %llu, \"difficulty\": \"%s\"}",
                g->saved_calls, g->saved_bytes, g->stack_cost, g->difficulty);
}

Bool SH_(write_json_report)(const Report* r, const HChar* path)
{
   UInt i;
   ULong blocks = SH_(total_blocks);
   SysRes sr = VG_(open)(path, VKI_O_CREAT | VKI_O_TRUNC | VKI_O_WRONLY,
                         VKI_S_IRUSR | VKI_S_IWUSR | VKI_S_IRGRP | VKI_S_IROTH);
   if (sr_isError(sr)) {
      VG_(umsg)("stackheap: error: cannot write the JSON report to '%s' "
                "(--json-out-file): %s%s\n", path, errno_text(sr_Err(sr)),
                VG_(clo_verbosity) > 0 ? "; the text report above is complete" : "");
      return False;
   }
   tl_assert(out_fd < 0 && out_len == 0);
   out_fd = sr_Res(sr);
   out_err = 0;
   jprintf("{\"format\": \"stackheap-2\", \"version\": \"%s\",\n \"command\": ",
                SH_VERSION);
   put_command();
   jprintf(",\n \"pid\": %d,\n \"options\": ", VG_(getpid)());
   put_options();
   if (r->label) {
      jprintf(",\n \"label\": ");
      put_str(r->label);
   }
   jprintf(",\n \"totals\": {\"instructions\": %llu, \"blocks\": %llu, \"bytes\": %llu,\n"
                "  \"stack_eligible_blocks\": %llu, \"stack_eligible_bytes\": %llu, "
                "\"escape_rate\": ",
                SH_(instrs), blocks, SH_(total_bytes), r->eligible_blocks, r->eligible_bytes);
   put_ratio(blocks - r->eligible_blocks, blocks);
   jprintf(",\n  \"classes\": ");
   put_classes(SH_(total_classes));
   jprintf(",\n  \"frames\": %llu, \"max_stack_depth\": %d, \"max_stack_bytes\": %llu, "
                "\"peak_live_bytes\": %llu, \"bad_frees\": %llu, "
                "\"off_stack_blocks\": %llu, \"holders_overflowed\": %llu},\n",
                r->frames_pushed, r->max_stack_depth, r->max_stack_bytes,
                SH_(peak_live_bytes), SH_(n_bad_frees), SH_(n_off_stack_blocks),
                SH_(holders_overflowed));
   jprintf(" \"threads\": [");
   {
      ThreadId t;
      Bool first = True;
      for (t = 1; t <= SH_(max_tid)(); t++) {
         ThreadState* ts = SH_(thread_if_any)(t);
         if (ts == NULL) continue;
         jprintf("%s{\"tid\": %u, \"frames\": %llu, \"max_stack_depth\": %d, "
                      "\"max_stack_bytes\": %llu}", first ? "" : ", ", t,
                      ts->frames_pushed, ts->max_depth, ts->max_stack_bytes);
         first = False;
      }
   }
   jprintf("],\n");
   jprintf(" \"phases\": [");
   for (i = 0; i < SH_(n_phases)(); i++) {
      Phase* p = SH_(phase_at)(i);
      jprintf("%s{\"name\": ", i ? ", " : "");
      put_str(p->name);
      jprintf(", \"blocks\": %llu, \"bytes\": %llu}", p->blocks, p->bytes);
   }
   jprintf("],\n \"sites\": [\n");
   for (i = 0; i < r->n_sites; i++) {
      put_site(r->sites[i]);
      jprintf(i + 1 < r->n_sites ? ",\n" : "\n");
   }
   jprintf(" ],\n \"suggestions\": [\n");
   for (i = 0; i < VG_(sizeXA)(r->suggestions); i++) {
      put_suggestion(VG_(indexXA)(r->suggestions, i));
      jprintf(i + 1 < VG_(sizeXA)(r->suggestions) ? ",\n" : "\n");
   }
   jprintf(" ]\n}\n");
   flush_out();
   VG_(close)(out_fd);
   out_fd = -1;
   if (out_err != 0) {
      VG_(umsg)("stackheap: error: the JSON report '%s' (--json-out-file) could not be "
                "written completely: %s%s\n", path, errno_text(out_err),
                VG_(clo_verbosity) > 0 ? "; the text report above is complete" : "");
      return False;
   }
   return True;
}
