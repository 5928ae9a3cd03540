/*--------------------------------------------------------------------*/
/*--- stackheap: the text report on the log.     sh_report_text.c  ---*/
/*--------------------------------------------------------------------*/

/* Summary, hotspots, suggestions; readable at 100 columns, and complete
   without the JSON file. */

#include "pub_tool_options.h"
#include "sh_global.h"

/* Print text wrapped at word boundaries so that, with Valgrind's
   "==PID== " prefix, lines stay within 100 columns; the first line starts
   with `first`, the others with `indent`. */
#define SH_TEXT_WIDTH 88

static void print_wrapped(const HChar* first, const HChar* indent, const HChar* text)
{
   HChar line[512];
   const HChar* lead = first;
   const HChar* p = text;
   while (*p) {
      Int lead_len = VG_(strlen)(lead);
      Int room = SH_TEXT_WIDTH - lead_len;
      Int len = VG_(strlen)(p), cut;
      if (room < 20) room = 20;
      if (len <= room) {
         cut = len;
      } else {
         for (cut = room; cut > 0 && p[cut] != ' '; cut--) ;
         if (cut == 0)   /* one word longer than the line: keep it whole */
            for (cut = room; p[cut] && p[cut] != ' '; cut++) ;
      }
      if (lead_len + cut >= (Int)sizeof line) cut = sizeof line - lead_len - 1;
      /* (Valgrind's printf ignores "%.*s": copy by hand.) */
      VG_(strcpy)(line, lead);
      VG_(memcpy)(line + lead_len, p, cut);
      line[lead_len + cut] = '\0';
      VG_(umsg)("%s\n", line);
      p += cut;
      while (*p == ' ') p++;
      lead = indent;
   }
}

static const HChar* plural(ULong n)
{
   return n == 1 ? "" : "s";
}

/* Percentage with one decimal, from integers. */
static void pct(HChar* buf, Int n, ULong part, ULong whole)
{
   ULong m = whole ? (part * 1000ULL + whole / 2) / whole : 0;
   VG_(snprintf)(buf, n, "%llu.%llu%%", m / 10, m % 10);
}

static void print_classes(const HChar* indent, const ULong* c)
{
   const Int* order = SH_(class_report_order);
   HChar line[400];
   Int i, len = 0;
   len += VG_(snprintf)(line + len, sizeof line - len, "%s", indent);
   for (i = 0; i < SH_N_CLASSES; i++)
      if (c[order[i]] != 0)
         len += VG_(snprintf)(line + len, sizeof line - len, " %s %'llu",
                              SH_(class_name)[order[i]], c[order[i]]);
   if (len == (Int)VG_(strlen)(indent))
      VG_(snprintf)(line + len, sizeof line - len, " (no blocks)");
   VG_(umsg)("%s\n", line);
}

/* The most common reason a site's blocks could not live on the stack. */
static const HChar* reason_text(ShClass c)
{
   switch (c) {
   case SH_CLASS_GLOBAL:      return "their address was stored in a global or static";
   case SH_CLASS_THREAD:      return "they were handed to another thread";
   case SH_CLASS_HEAP:        return "their address was stored in another heap block";
   case SH_CLASS_NEVER_FREED: return "they were never freed";
   case SH_CLASS_OUTLIVED:    return "they outlived every frame of their allocation stack";
   case SH_CLASS_TOO_LARGE:   return "they are larger than --max-stack-block";
   default:                   return "";
   }
}

static void print_verdict(const Site* s)
{
   ULong elig = SH_(site_eligible_blocks)(s);
   Word i, best = -1;
   ShClass worst = SH_CLASS_FRAME;
   ULong worst_n = 0;
   Int c;
   for (i = 0; i < VG_(sizeXA)(s->homes); i++) {
      const Home* h = VG_(indexXA)(s->homes, i);
      if (best < 0 || h->blocks > ((const Home*)VG_(indexXA)(s->homes, best))->blocks)
         best = i;
   }
   if (best >= 0) {
      const Home* h = VG_(indexXA)(s->homes, best);
      HChar* fn = SH_(fn_name_dup)(h->fn);
      VG_(umsg)("   %'llu of %'llu blocks could have lived in %s%s (depth %d)%s\n",
                elig, s->blocks, fn, VG_(strchr)(fn, '(') ? "" : "()", h->depth,
                VG_(sizeXA)(s->homes) > 1 ? ", among other homes" : "");
      VG_(free)(fn);
   }
   for (c = 0; c < SH_CLASS_FRAME; c++)
      if (s->classes[c] > worst_n) { worst_n = s->classes[c]; worst = c; }
   if (worst_n > 0)
      VG_(umsg)("   %'llu of %'llu blocks could not live on the stack: %s\n",
                worst_n, s->blocks, reason_text(worst));
   if (s->first_escape.valid) {
      HChar* loc = SH_(code_loc_dup)(s->first_escape.store_ip);
      VG_(umsg)("   first escape (%s): stored at %s\n", SH_(class_name)[s->first_escape.cls], loc);
      VG_(free)(loc);
      VG_(umsg)("     into %s\n", s->first_escape.target);
   }
}

static void print_site(const Site* s)
{
   XArray* frames = SH_(describe_site_stack)(s);
   Word i;
   VG_(umsg)("#%u [%s] %'llu block%s, %'llu bytes (%'llu..%'llu each), max %'llu live, "
             "avg lifetime %'llu instrs\n",
             s->id, SH_(severity_name)[SH_(severity_of)(s)], s->blocks, plural(s->blocks),
             s->bytes,
             s->min_size, s->max_size, s->max_live,
             s->freed ? s->lifetime_sum / s->freed : 0ULL);
   if (s->reallocs)
      VG_(umsg)("   %'llu realloc%s\n", s->reallocs, plural(s->reallocs));
   if (s->pool_ip != 0) {
      HChar* pool = SH_(pool_site_name_dup)(s);
      VG_(umsg)("   from %s%s\n", pool, s->pool_mixed ? " (and others)" : "");
      VG_(free)(pool);
   }
   if (s->live + s->unfreed_at_exit > 0)
      VG_(umsg)("   %'llu never freed\n", s->live + s->unfreed_at_exit);
   print_verdict(s);
   print_classes("   classes:", s->classes);
   {
      /* where its blocks were freed, most frequent first */
      XArray* fs = SH_(site_free_sites)(s);
      HChar line[600];
      Int len = 0;
      for (i = 0; i < VG_(sizeXA)(fs); i++) {
         const FreeSite* f = VG_(indexXA)(fs, i);
         HChar where[400];
         SH_(format_frame)(&f->d, where, sizeof where);
         len += VG_(snprintf)(line + len, sizeof line - len, "%s%s x%'llu",
                              i ? ", " : "", where, f->blocks);
      }
      if (len > 0) print_wrapped("   freed at: ", "     ", line);
      SH_(free_free_sites)(fs);
   }
   VG_(umsg)("   allocated at:\n");
   for (i = 0; i < VG_(sizeXA)(frames); i++) {
      HChar* loc = SH_(format_frame_dup)(VG_(indexXA)(frames, i));
      VG_(umsg)("     %s\n", loc);
      VG_(free)(loc);
   }
   SH_(free_frame_descs)(frames);
   VG_(umsg)("\n");
}

void SH_(write_text_report)(const Report* r)
{
   UInt i, shown;
   ULong blocks = SH_(total_blocks);
   HChar p1[32], p2[32];
   Word n_sugs = VG_(sizeXA)(r->suggestions);

   VG_(umsg)("\n");
   if (r->label)
      VG_(umsg)("-------- stackheap report: %s --------\n", r->label);
   pct(p1, sizeof p1, r->eligible_blocks, blocks);
   pct(p2, sizeof p2, blocks - r->eligible_blocks, blocks);
   VG_(umsg)("Total:     %'llu blocks, %'llu bytes, in %'llu instructions\n",
             blocks, SH_(total_bytes), SH_(instrs));
   VG_(umsg)("Sites:     %'u allocation sites; peak live %'llu bytes\n",
             r->n_sites, SH_(peak_live_bytes));
   VG_(umsg)("Stack:     %'llu blocks (%s), %'llu bytes, could have lived on the stack; "
             "escape rate %s\n", r->eligible_blocks, p1, r->eligible_bytes, p2);
   print_classes("Classes:  ", SH_(total_classes));
   VG_(umsg)("Frames:    %'llu calls; deepest stack %'d frames (%'llu bytes)\n",
             r->frames_pushed, r->max_stack_depth, r->max_stack_bytes);
   if (SH_(n_bad_frees))
      VG_(umsg)("Bad frees: %'llu (see the warnings above)\n", SH_(n_bad_frees));
   if (SH_(holders_overflowed))
      VG_(umsg)("Holders:   %'llu blocks had more holders than tracked and were judged "
                "heap conservatively\n", SH_(holders_overflowed));
   if (blocks == 0) return;

   /* --top=0 shows every site. */
   shown = (SH_(clo_top) == 0 || r->n_sites < (UInt)SH_(clo_top)) ? r->n_sites
                                                                   : (UInt)SH_(clo_top);
   VG_(umsg)("\n");
   VG_(umsg)("-------- Hotspots: top %u of %u sites, by %s --------\n",
             shown, r->n_sites, SH_(sort_by_name)(SH_(clo_sort_by)));
   VG_(umsg)("\n");
   for (i = 0; i < shown; i++)
      print_site(r->sites[i]);

   if (n_sugs == 0) {
      VG_(umsg)("No suggestions.\n");
      return;
   }
   VG_(umsg)("-------- Suggestions, largest saving first --------\n");
   VG_(umsg)("\n");
   for (i = 0; i < n_sugs; i++) {
      const Suggestion* g = VG_(indexXA)(r->suggestions, i);
      HChar head[128], where[400];
      SH_(format_frame)(&g->loc, where, sizeof where);
      VG_(snprintf)(head, sizeof head, "%u. %s (site #%u, %s): ", i + 1,
                    SH_(sug_kind_name)[g->kind], g->site->id, g->difficulty);
      VG_(umsg)("%sat %s\n", head, where);
      /* one entry per source line: its call paths folded */
      if (VG_(sizeXA)(g->sites) > 1)
         VG_(umsg)("   from %'ld call paths; largest site #%u, %'llu bytes, up to %'llu each\n",
                   VG_(sizeXA)(g->sites), g->site->id, g->site->bytes, g->site->max_size);
      print_wrapped("   ", "   ", g->text);
      VG_(umsg)("   saves %'llu allocator calls and %'llu heap bytes; adds %'llu stack bytes\n",
                g->saved_calls, g->saved_bytes, g->stack_cost);
   }
   VG_(umsg)("\n");
}
