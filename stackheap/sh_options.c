/*--------------------------------------------------------------------*/
/*--- stackheap: command-line options.               sh_options.c ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_options.h"
#include "pub_tool_replacemalloc.h"
#include "pub_tool_seqmatch.h"
#include "sh_global.h"

Int      SH_(clo_depth)            = 12;
Int      SH_(clo_top)              = 10;
ShSortBy SH_(clo_sort_by)          = SH_SORT_BLOCKS;
const HChar* SH_(clo_json_out_file) = "stackheap.out.%p.json";
const HChar* SH_(clo_xtree_out_file) = "none";
ULong    SH_(clo_max_stack_block)  = 4096;
ULong    SH_(clo_stack_budget)     = 65536;
Bool     SH_(clo_collect_atstart)  = True;
Double   SH_(clo_max_escape_rate)  = -1.0;
Long     SH_(clo_max_alloc_rate)   = -1;
Long     SH_(clo_max_eligible_blocks) = -1;

/* --alloc-fn names, in the order given. */
#define SH_MAX_ALLOC_FNS 64
static const HChar* alloc_fns[SH_MAX_ALLOC_FNS];
static UInt n_alloc_fns = 0;

static const HChar* const sort_names[] = {
   "blocks", "bytes", "eligible-blocks", "eligible-bytes", "calls-saved", NULL
};

const HChar* SH_(sort_by_name)(ShSortBy s)
{
   return sort_names[s];
}

UInt SH_(n_alloc_fns)(void) { return n_alloc_fns; }
const HChar* SH_(alloc_fn)(UInt i) { tl_assert(i < n_alloc_fns); return alloc_fns[i]; }

/* --alloc-fn takes a function name, or a pattern with '*' and '?' as
   Valgrind's suppressions do (so C++ names with arguments can be matched). */
Bool SH_(is_alloc_fn_name)(const HChar* fnname)
{
   UInt i;
   for (i = 0; i < n_alloc_fns; i++)
      if (VG_(string_match)(alloc_fns[i], fnname))
         return True;
   return False;
}

/* A non-negative size with an optional k/m/g suffix (powers of 1024). */
static Bool parse_size(const HChar* arg, const HChar* val, ULong* out)
{
   HChar* end;
   ULong mult = 1;
   Long num;
   if (val[0] < '0' || val[0] > '9') {
      VG_(fmsg_bad_option)(arg, "Invalid size '%s' (a number, optionally with k, m or g)\n", val);
      return False;
   }
   num = VG_(strtoll10)(val, &end);
   if (*end == 'k' || *end == 'K') { mult = 1024; end++; }
   else if (*end == 'm' || *end == 'M') { mult = 1024 * 1024; end++; }
   else if (*end == 'g' || *end == 'G') { mult = 1024 * 1024 * 1024; end++; }
   if (*end != '\0' || num < 0) {
      VG_(fmsg_bad_option)(arg, "Invalid size '%s' (a number, optionally with k, m or g)\n", val);
      return False;
   }
   *out = (ULong)num * mult;
   return True;
}

Bool SH_(process_cmd_line_option)(const HChar* arg)
{
   const HChar* str;
   Int ix;
   Long lim = 0;

   if VG_BINT_CLO(arg, "--depth", SH_(clo_depth), 1, 64) {}
   else if VG_BINT_CLO(arg, "--top", SH_(clo_top), 0, 1000000) {}
   else if VG_STRINDEX_CLO(arg, "--sort-by", sort_names, ix)
      SH_(clo_sort_by) = (ShSortBy)ix;
   else if VG_STR_CLO(arg, "--json-out-file", SH_(clo_json_out_file)) {
      if (SH_(clo_json_out_file)[0] == '\0')
         VG_(fmsg_bad_option)(arg, "the file name is empty (use 'none' to write no file)\n");
   }
   else if VG_STR_CLO(arg, "--xtree-out-file", SH_(clo_xtree_out_file)) {
      if (SH_(clo_xtree_out_file)[0] == '\0')
         VG_(fmsg_bad_option)(arg, "the file name is empty (use 'none' to write no file)\n");
   }
   else if VG_STR_CLO(arg, "--alloc-fn", str) {
      if (str[0] == '\0')
         VG_(fmsg_bad_option)(arg, "the function name is empty\n");
      if (n_alloc_fns == SH_MAX_ALLOC_FNS)
         VG_(fmsg_bad_option)(arg, "too many --alloc-fn options (at most %d)\n",
                              SH_MAX_ALLOC_FNS);
      alloc_fns[n_alloc_fns++] = str;
   }
   else if VG_STR_CLO(arg, "--max-stack-block", str) {
      if (!parse_size(arg, str, &SH_(clo_max_stack_block))) return False;
   }
   else if VG_STR_CLO(arg, "--stack-budget", str) {
      if (!parse_size(arg, str, &SH_(clo_stack_budget))) return False;
   }
   else if VG_BOOL_CLO(arg, "--collect-atstart", SH_(clo_collect_atstart)) {}
   else if VG_DBL_CLO(arg, "--max-escape-rate", SH_(clo_max_escape_rate)) {
      if (SH_(clo_max_escape_rate) < 0.0 || SH_(clo_max_escape_rate) > 1.0)
         VG_(fmsg_bad_option)(arg, "the rate must be between 0 and 1\n");
   }
   else if VG_INT_CLO(arg, "--max-alloc-rate", lim) {
      if (lim < 0) VG_(fmsg_bad_option)(arg, "must not be negative\n");
      SH_(clo_max_alloc_rate) = lim;
   }
   else if VG_INT_CLO(arg, "--max-eligible-blocks", lim) {
      if (lim < 0) VG_(fmsg_bad_option)(arg, "must not be negative\n");
      SH_(clo_max_eligible_blocks) = lim;
   }
   else
      return VG_(replacement_malloc_process_cmd_line_option)(arg);

   return True;
}

void SH_(print_usage)(void)
{
   VG_(printf)(
"    --depth=<number>          frames kept in an allocation site's stack [12]\n"
"    --alloc-fn=<name>         treat <name> as an allocator: its frames are removed\n"
"                              from stacks and its caller is depth 0 (repeatable;\n"
"                              '*' and '?' match as in suppressions)\n"
"    --top=<number>            sites shown in the text report, 0 for all [10]\n"
"    --sort-by=blocks|bytes|eligible-blocks|eligible-bytes|calls-saved\n"
"                              order of the hotspots [blocks]\n"
"    --json-out-file=<file>    JSON report file; %%p is the pid, %%q{VAR} an\n"
"                              environment variable, 'none' writes none\n"
"                              [stackheap.out.%%p.json]\n"
"    --xtree-out-file=<file>   the allocation tree in callgrind format, for\n"
"                              KCachegrind and callgrind_annotate (%%p, %%q{VAR}\n"
"                              as above), e.g. xtstackheap.kcg.%%p [none]\n"
"    --max-stack-block=<size>  blocks larger than this are 'too_large' for the\n"
"                              stack (k/m/g suffixes allowed) [4096]\n"
"    --stack-budget=<size>     most stack bytes a suggestion may add, counted over\n"
"                              the deepest recursion of its home [65536]\n"
"    --collect-atstart=no|yes  collect from the start, or wait for\n"
"                              SH_START_COLLECTING [yes]\n"
"    --max-escape-rate=<F>     warn at exit when the share of blocks that could\n"
"                              not live on the stack exceeds F (0..1) [off]\n"
"    --max-alloc-rate=<N>      warn when more than N blocks are allocated per\n"
"                              million instructions [off]\n"
"    --max-eligible-blocks=<N> warn when more than N blocks could have lived on\n"
"                              the stack [off]\n"
"    (a crossed threshold makes the run exit with --error-exitcode=<N> if given)\n"
   );
}

void SH_(print_debug_usage)(void)
{
   VG_(printf)("    (none)\n");
}
