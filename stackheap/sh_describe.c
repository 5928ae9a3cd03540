/*--------------------------------------------------------------------*/
/*--- stackheap: names for code and data addresses.  sh_describe.c ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_debuginfo.h"
#include "pub_tool_machine.h"
#include "pub_tool_options.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"

/* Drop "." components and fold "dir/.." in place, so that one source
   file has one name whatever directory the compiler was run from
   ("tests/../cJSON.c" is "cJSON.c").  A leading ".." of a relative path
   is kept: there is nothing to fold it into. */
static void normalise_path(HChar* path)
{
   Int n = VG_(strlen)(path), o = 0, kept = 0;
   HChar* out = VG_(malloc)("sh.normpath", n + 2);
   const HChar* p = path;
   Bool abs = path[0] == '/';
   if (abs) { out[o++] = '/'; p++; }
   while (*p) {
      const HChar* end = p;
      Int len;
      while (*end && *end != '/') end++;
      len = end - p;
      if (len == 0 || (len == 1 && p[0] == '.')) {
         /* empty or ".": nothing */
      } else if (len == 2 && p[0] == '.' && p[1] == '.') {
         if (kept > 0) {
            /* drop the last component written, and its slash */
            o--;
            while (o > (abs ? 1 : 0) && out[o - 1] != '/') o--;
            kept--;
         } else if (!abs) {
            VG_(memcpy)(out + o, "../", 3);
            o += 3;
         }
      } else {
         VG_(memcpy)(out + o, p, len);
         o += len;
         out[o++] = '/';
         kept++;
      }
      p = *end ? end + 1 : end;
   }
   if (o > (abs ? 1 : 0) && out[o - 1] == '/') o--;
   if (o == 0) out[o++] = '.';
   out[o] = '\0';
   VG_(strcpy)(path, out);   /* never longer than the input */
   VG_(free)(out);
}

/* The path as given by the debug info, joined with its directory when the
   file name is relative (so annotators can find it), normalised. */
static HChar* full_file(const HChar* file, const HChar* dir)
{
   HChar* out;
   if (dir == NULL || dir[0] == '\0' || file[0] == '/') {
      out = VG_(strdup)("sh.file", file);
   } else {
      out = VG_(malloc)("sh.file", VG_(strlen)(dir) + VG_(strlen)(file) + 2);
      VG_(sprintf)(out, "%s/%s", dir, file);
   }
   normalise_path(out);
   return out;
}

/* VG_(describe_IP) is the only public way to name inlined frames; its
   format is "0xADDR: FN (FILE:LINE)", "0xADDR: FN (in OBJ)" or
   "0xADDR: FN".  File names come from VG_(get_filename_linenum) for the
   outermost frame (it has the directory) and from the text otherwise. */
static void parse_described(const HChar* txt, ShFrameDesc* d)
{
   const HChar* p = VG_(strstr)(txt, ": ");
   const HChar* open;
   Int len;
   HChar* colon;
   p = p ? p + 2 : txt;
   len = VG_(strlen)(p);
   open = NULL;
   if (len > 0 && p[len - 1] == ')') {
      const HChar* q;
      for (q = p + len - 2; q > p; q--)
         if (q[0] == '(' && q[-1] == ' ') { open = q; break; }
   }
   if (open == NULL) {
      d->fn = VG_(strdup)("sh.fn", p);
      return;
   }
   d->fn = VG_(malloc)("sh.fn", open - p);
   VG_(memcpy)(d->fn, p, open - p - 1);
   d->fn[open - p - 1] = '\0';
   if (VG_(strncmp)(open, "(in ", 4) == 0)
      return;
   /* "(FILE:LINE)" */
   d->file = VG_(malloc)("sh.file", len);
   VG_(memcpy)(d->file, open + 1, p + len - 1 - (open + 1));
   d->file[p + len - 1 - (open + 1)] = '\0';
   colon = VG_(strrchr)(d->file, ':');
   if (colon != NULL) {
      d->line = (UInt)VG_(strtoll10)(colon + 1, NULL);
      *colon = '\0';
   }
   normalise_path(d->file);
}

void SH_(describe_ip)(Addr ip, XArray* out)
{
   DiEpoch ep = VG_(current_DiEpoch)();
   InlIPCursor* iipc = VG_(new_IIPC)(ep, ip);
   const HChar* obj;
   const HChar *file, *dir;
   UInt line;
   Word first = VG_(sizeXA)(out);
   do {
      ShFrameDesc d;
      VG_(memset)(&d, 0, sizeof(d));
      parse_described(VG_(describe_IP)(ep, ip, iipc), &d);
      VG_(addToXA)(out, &d);
   } while (VG_(next_IIPC)(iipc));
   VG_(delete_IIPC)(iipc);
   obj = NULL;
   if (VG_(get_objname)(ep, ip, &obj) && obj != NULL) {
      Word i;
      for (i = first; i < VG_(sizeXA)(out); i++) {
         ShFrameDesc* d = VG_(indexXA)(out, i);
         d->obj = VG_(strdup)("sh.obj", obj);
      }
   }
   /* The innermost entry is the IP's own location: give it the full path. */
   if (VG_(get_filename_linenum)(ep, ip, &file, &dir, &line)) {
      ShFrameDesc* d = VG_(indexXA)(out, first);
      if (d->file) VG_(free)(d->file);
      d->file = full_file(file, dir);
      d->line = line;
   }
}

XArray* SH_(describe_site_stack)(const Site* s)
{
   XArray* out = VG_(newXA)(VG_(malloc), "sh.descs", VG_(free), sizeof(ShFrameDesc));
   UInt i;
   for (i = 0; i < s->n_ips; i++)
      if (s->ips[i] != 0) SH_(describe_ip)(s->ips[i], out);
   return out;
}

void SH_(free_frame_descs)(XArray* xa)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(xa); i++) {
      ShFrameDesc* d = VG_(indexXA)(xa, i);
      if (d->fn) VG_(free)(d->fn);
      if (d->file) VG_(free)(d->file);
      if (d->obj) VG_(free)(d->obj);
   }
   VG_(deleteXA)(xa);
}

void SH_(clear_frame_desc)(ShFrameDesc* d)
{
   if (d->fn) VG_(free)(d->fn);
   if (d->file) VG_(free)(d->file);
   if (d->obj) VG_(free)(d->obj);
   VG_(memset)(d, 0, sizeof(*d));
}

void SH_(describe_code_loc)(Addr ip, ShFrameDesc* d)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.loc", VG_(free), sizeof(ShFrameDesc));
   SH_(describe_ip)(ip, xa);
   *d = *(ShFrameDesc*)VG_(indexXA)(xa, 0);
   /* the entry's strings now belong to d: forget them in xa */
   VG_(memset)(VG_(indexXA)(xa, 0), 0, sizeof(ShFrameDesc));
   SH_(free_frame_descs)(xa);
}

static const HChar* basename_of(const HChar* path)
{
   const HChar* slash = VG_(strrchr)(path, '/');
   return slash ? slash + 1 : path;
}

HChar* SH_(fn_name_dup)(Addr ip)
{
   const HChar* name;
   if (ip != 0 && VG_(get_fnname)(VG_(current_DiEpoch)(), ip, &name))
      return VG_(strdup)("sh.fnname", name);
   return VG_(strdup)("sh.fnname", "???");
}

static void sink_to_xa(HChar c, void* xa)
{
   VG_(addToXA)((XArray*)xa, &c);
}

HChar* SH_(printf_dup)(const HChar* format, ...)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.printf", VG_(free), sizeof(HChar));
   HChar nul = '\0';
   HChar* out;
   va_list vargs;
   va_start(vargs, format);
   VG_(vcbprintf)(sink_to_xa, xa, format, vargs);
   va_end(vargs);
   VG_(addToXA)(xa, &nul);
   out = VG_(strdup)("sh.printf", VG_(indexXA)(xa, 0));
   VG_(deleteXA)(xa);
   return out;
}

HChar* SH_(format_frame_dup)(const ShFrameDesc* d)
{
   if (d->file)
      return SH_(printf_dup)("%s (%s:%u)", d->fn, basename_of(d->file), d->line);
   if (d->obj)
      return SH_(printf_dup)("%s (in %s)", d->fn, basename_of(d->obj));
   return SH_(printf_dup)("%s", d->fn);
}

HChar* SH_(code_loc_dup)(Addr ip)
{
   XArray* xa = VG_(newXA)(VG_(malloc), "sh.loc", VG_(free), sizeof(ShFrameDesc));
   HChar* out;
   SH_(describe_ip)(ip, xa);
   tl_assert(VG_(sizeXA)(xa) >= 1);
   out = SH_(format_frame_dup)(VG_(indexXA)(xa, 0));
   SH_(free_frame_descs)(xa);
   return out;
}

void SH_(fn_name)(Addr ip, HChar* buf, Int n)
{
   HChar* s = SH_(fn_name_dup)(ip);
   VG_(snprintf)(buf, n, "%s", s);
   VG_(free)(s);
}

void SH_(format_frame)(const ShFrameDesc* d, HChar* buf, Int n)
{
   HChar* s = SH_(format_frame_dup)(d);
   VG_(snprintf)(buf, n, "%s", s);
   VG_(free)(s);
}

void SH_(code_loc)(Addr ip, HChar* buf, Int n)
{
   HChar* s = SH_(code_loc_dup)(ip);
   VG_(snprintf)(buf, n, "%s", s);
   VG_(free)(s);
}

HChar* SH_(describe_data_addr)(Addr a)
{
   DiEpoch ep = VG_(current_DiEpoch)();
   const HChar* name;
   PtrdiffT off;
   HChar buf[512];
   ThreadId t;
   if (VG_(get_datasym_and_offset)(ep, a, &name, &off)) {
      if (off == 0)
         return SH_(printf_dup)("global variable '%s'", name);
      return SH_(printf_dup)("global variable '%s' (offset %ld)", name, (long)off);
   }
   /* Just above a thread's stack: its descriptor and TLS block. */
   for (t = 1; t <= SH_(max_tid)(); t++) {
      ThreadState* ts = SH_(thread_if_any)(t);
      if (ts != NULL && ts->stack_top != 0 && a > ts->stack_top
          && SH_(thread_alive)(t)
          && a < VG_(thread_get_stack_max)(t) + 64 * 1024) {
         if (t == 1)
            VG_(snprintf)(buf, sizeof buf,
                          "memory above main's stack (arguments, environment)");
         else
            VG_(snprintf)(buf, sizeof buf,
                          "thread-local storage or descriptor of thread %u", t);
         return VG_(strdup)("sh.target", buf);
      }
   }
   if (VG_(get_objname)(ep, a, &name))
      return SH_(printf_dup)("static data in %s", basename_of(name));
   else
      VG_(snprintf)(buf, sizeof buf,
                    "memory outside every stack and heap block (TLS or mmap)");
   return VG_(strdup)("sh.target", buf);
}

void SH_(pp_current_stack)(ThreadId tid)
{
   Addr ips[32];
   UInt i, n = VG_(get_StackTrace)(tid, ips, 32, NULL, NULL, 0);
   for (i = 0; i < n && i < (UInt)SH_(clo_depth); i++) {
      /* As the core's stack traces do: stop at main (or at the first
         frame below it) unless --show-below-main=yes. */
      Vg_FnNameKind kind = VG_(clo_show_below_main) ? Vg_FnNameNormal
                           : VG_(get_fnname_kind_from_IP)(VG_(current_DiEpoch)(), ips[i]);
      if (kind == Vg_FnNameBelowMain && i > 0) break;
      HChar* loc = SH_(code_loc_dup)(ips[i]);
      VG_(umsg)("   %s %s\n", i == 0 ? "at" : "by", loc);
      VG_(free)(loc);
      if (kind == Vg_FnNameMain) break;
   }
}
