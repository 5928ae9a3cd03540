/*--------------------------------------------------------------------*/
/*--- stackheap: warnings about allocator misuse.     sh_misuse.c  ---*/
/*--------------------------------------------------------------------*/

/* A program that frees through the wrong pool, frees a block twice, or
   frees a pointer realloc already moved does it from the same line again
   and again.  Each distinct warning text, at each distinct stack, is
   printed once with that stack (as memcheck merges identical errors);
   every occurrence that freed nothing still counts in totals.bad_frees.
   The texts never contain addresses, so they are stable across runs. */

#include "pub_tool_oset.h"
#include "pub_tool_stacktrace.h"
#include "sh_global.h"

#define SH_MISUSE_IPS 16

static OSet* seen;   /* of UWord: hashes of (text, stack) already printed */

static UWord hash_bytes(UWord h, const UChar* p, SizeT n)
{
   SizeT i;
   for (i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
   return h;
}

void SH_(misuse)(ThreadId tid, Bool bad_free, const HChar* fmt, ...)
{
   HChar text[1024];
   Addr ips[SH_MISUSE_IPS];
   UInt i, n;
   UWord h;
   va_list vargs;
   va_start(vargs, fmt);
   VG_(vsnprintf)(text, sizeof text, fmt, vargs);
   va_end(vargs);
   if (bad_free) SH_(n_bad_frees)++;
   n = VG_(get_StackTrace)(tid, ips, SH_MISUSE_IPS, NULL, NULL, 0);
   h = hash_bytes(0xcbf29ce484222325ULL, (const UChar*)text, VG_(strlen)(text));
   /* By the stack as printed (function, file, line), not by raw
      addresses: an unrolled loop calls from several addresses of one line. */
   for (i = 0; i < n; i++) {
      HChar* loc = SH_(code_loc_dup)(ips[i]);
      h = hash_bytes(h, (const UChar*)loc, VG_(strlen)(loc));
      VG_(free)(loc);
   }
   if (seen == NULL)
      seen = VG_(OSetWord_Create)(VG_(malloc), "sh.misuse", VG_(free));
   if (VG_(OSetWord_Contains)(seen, h)) return;
   VG_(OSetWord_Insert)(seen, h);
   VG_(umsg)("Warning: %s\n", text);
   SH_(pp_current_stack)(tid);
}
