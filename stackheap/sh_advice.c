/*--------------------------------------------------------------------*/
/*--- stackheap: severities and suggestions.           sh_advice.c ---*/
/*--------------------------------------------------------------------*/

#include "sh_global.h"

const HChar* const SH_(severity_name)[4] = { "low", "medium", "high", "critical" };
const HChar* const SH_(sug_kind_name)[SH_N_SUG_KINDS] = {
   "use_stack_allocation", "caller_owned_storage", "bounded_local_buffer",
   "reserve_capacity", "hoist_out_of_loop", "object_pool", "remove_escape"
};

/* Bytes allocated at the site: 100 KiB, 1 MiB, 10 MiB. */
ShSeverity SH_(severity_of)(const Site* s)
{
   if (s->bytes >= 10ULL * 1024 * 1024) return SH_SEV_CRITICAL;
   if (s->bytes >= 1024ULL * 1024)      return SH_SEV_HIGH;
   if (s->bytes >= 100ULL * 1024)       return SH_SEV_MEDIUM;
   return SH_SEV_LOW;
}

XArray* SH_(make_suggestions)(Site** sorted, UInt n)
{
   return VG_(newXA)(VG_(malloc), "sh.sugs", VG_(free), sizeof(Suggestion));
}

void SH_(free_suggestions)(XArray* sugs)
{
   Word i;
   for (i = 0; i < VG_(sizeXA)(sugs); i++)
      VG_(free)(((Suggestion*)VG_(indexXA)(sugs, i))->text);
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
