/*--------------------------------------------------------------------*/
/*--- stackheap: command-line options.               sh_options.c ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_libcproc.h"
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
Bool     SH_(clo_fast_requests)    = True;   /* (debugging options) */
Bool     SH_(clo_batch_rep_movs)   = True;
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

#define SH_MAX_LONG 0x7fffffffffffffffLL

/* Leading digits of val into *out; *end is the first other character.
   Returns 0 when val does not start with a digit, -1 on overflow (the
   core's VG_(strtoll10) wraps silently), 1 otherwise. */
static Int digits_to_ulong(const HChar* val, const HChar** end, ULong* out)
{
   ULong n = 0;
   const HChar* p = val;
   Bool overflow = False;
   *end = val;
   *out = 0;
   if (*p < '0' || *p > '9') return 0;
   for (; *p >= '0' && *p <= '9'; p++) {
      ULong d = *p - '0';
      if (n > (~0ULL - d) / 10) overflow = True;
      n = n * 10 + d;
   }
   *end = p;
   *out = n;
   return overflow ? -1 : 1;
}

/* A non-negative size with an optional k/m/g suffix (powers of 1024),
   at most 2^63 - 1 bytes. */
static void parse_size(const HChar* arg, const HChar* val, ULong* out)
{
   const HChar* end;
   ULong num, mult = 1;
   Int got = digits_to_ulong(val, &end, &num);
   if (got != 0) {
      if (*end == 'k' || *end == 'K') { mult = 1024; end++; }
      else if (*end == 'm' || *end == 'M') { mult = 1024 * 1024; end++; }
      else if (*end == 'g' || *end == 'G') { mult = 1024 * 1024 * 1024; end++; }
   }
   if (got == 0 || *end != '\0')
      VG_(fmsg_bad_option)(arg, "Invalid size '%s' (a number, optionally with k, m or g)\n", val);
   if (got < 0 || num > (ULong)SH_MAX_LONG / mult)
      VG_(fmsg_bad_option)(arg, "the size '%s' is too large (at most %lld bytes)\n",
                           val, SH_MAX_LONG);
   *out = num * mult;
}

/* An integer in [lo, hi]; an overflowing one is out of range too. */
static Long parse_count(const HChar* arg, const HChar* val, Long lo, Long hi)
{
   const HChar* end;
   ULong n;
   Int got;
   tl_assert(lo >= 0 && lo <= hi);
   got = val[0] == '-' ? digits_to_ulong(val + 1, &end, &n)
                       : digits_to_ulong(val, &end, &n);
   if (got == 0 || *end != '\0')
      VG_(fmsg_bad_option)(arg, "Invalid integer value '%s'\n", val);
   if (got < 0 || val[0] == '-' || n < (ULong)lo || n > (ULong)hi)
      VG_(fmsg_bad_option)(arg, "the value must be between %lld and %lld\n", lo, hi);
   return (Long)n;
}

/* Check a --json-out-file name as the core will expand it at exit (the
   same rules as VG_(expand_file_name)), so that a bad one stops the run
   before the program starts rather than losing the report after it. */
static void check_file_name(const HChar* arg, const HChar* f)
{
   const HChar* p;
   if (f[0] == '\0')
      VG_(fmsg_bad_option)(arg, "the file name is empty (use 'none' to write no file)\n");
   if (f[0] == '~')
      VG_(fmsg_bad_option)(arg, "the file name begins with '~', which the shell did not "
                           "expand (use $HOME)\n");
   for (p = f; *p; p++) {
      if (*p != '%') continue;
      p++;
      if (*p == '%' || *p == 'p' || *p == 'n') continue;
      if (*p == 'q') {
         const HChar* close;
         Int len;
         if (p[1] != '{')
            VG_(fmsg_bad_option)(arg, "expected '{' after '%%q'\n");
         close = VG_(strchr)(p + 2, '}');
         if (close == NULL)
            VG_(fmsg_bad_option)(arg, "missing '}' in the %%q specifier\n");
         len = close - (p + 2);
         {
            HChar name[len + 1];
            VG_(memcpy)(name, p + 2, len);
            name[len] = '\0';
            if (len == 0 || VG_(getenv)(name) == NULL)
               VG_(fmsg_bad_option)(arg, "environment variable '%s' is not set\n", name);
         }
         p = close;
         continue;
      }
      VG_(fmsg_bad_option)(arg, "expected 'p', 'n', 'q{VAR}' or '%%' after '%%'\n");
   }
}

Bool SH_(process_cmd_line_option)(const HChar* arg)
{
   const HChar* str;
   Int ix;

   if VG_STR_CLO(arg, "--depth", str)
      SH_(clo_depth) = (Int)parse_count(arg, str, 1, 64);
   else if VG_STR_CLO(arg, "--top", str)
      SH_(clo_top) = (Int)parse_count(arg, str, 0, 1000000);
   else if VG_STRINDEX_CLO(arg, "--sort-by", sort_names, ix)
      SH_(clo_sort_by) = (ShSortBy)ix;
   else if VG_STR_CLO(arg, "--json-out-file", SH_(clo_json_out_file)) {
      if (VG_(strcmp)(SH_(clo_json_out_file), "none") != 0)
         check_file_name(arg, SH_(clo_json_out_file));
   }
   else if VG_STR_CLO(arg, "--xtree-out-file", SH_(clo_xtree_out_file)) {
      if (VG_(strcmp)(SH_(clo_xtree_out_file), "none") != 0)
         check_file_name(arg, SH_(clo_xtree_out_file));
   }
   else if VG_STR_CLO(arg, "--alloc-fn", str) {
      if (str[0] == '\0')
         VG_(fmsg_bad_option)(arg, "the function name is empty\n");
      if (n_alloc_fns == SH_MAX_ALLOC_FNS)
         VG_(fmsg_bad_option)(arg, "too many --alloc-fn options (at most %d)\n",
                              SH_MAX_ALLOC_FNS);
      alloc_fns[n_alloc_fns++] = str;
   }
   else if VG_STR_CLO(arg, "--max-stack-block", str)
      parse_size(arg, str, &SH_(clo_max_stack_block));
   else if VG_STR_CLO(arg, "--stack-budget", str)
      parse_size(arg, str, &SH_(clo_stack_budget));
   else if VG_BOOL_CLO(arg, "--collect-atstart", SH_(clo_collect_atstart)) {}
   else if VG_BOOL_CLO(arg, "--fast-alloc-requests", SH_(clo_fast_requests)) {}
   else if VG_BOOL_CLO(arg, "--batch-rep-movs", SH_(clo_batch_rep_movs)) {}
   else if VG_DBL_CLO(arg, "--max-escape-rate", SH_(clo_max_escape_rate)) {
      /* (also refuses a NaN) */
      if (!(SH_(clo_max_escape_rate) >= 0.0 && SH_(clo_max_escape_rate) <= 1.0))
         VG_(fmsg_bad_option)(arg, "the rate must be between 0 and 1\n");
   }
   else if VG_STR_CLO(arg, "--max-alloc-rate", str)
      SH_(clo_max_alloc_rate) = parse_count(arg, str, 0, SH_MAX_LONG);
   else if VG_STR_CLO(arg, "--max-eligible-blocks", str)
      SH_(clo_max_eligible_blocks) = parse_count(arg, str, 0, SH_MAX_LONG);
   else
      return VG_(replacement_malloc_process_cmd_line_option)(arg);

   return True;
}

/* After every option is read.  A site's stack is an ExeContext of up to
   --depth frames, and the core refuses ExeContexts longer than
   --num-callers: raise it (it only lengthens the core's own traces), so
   that --num-callers plays no part in what the tool reports. */
void SH_(options_post_init)(void)
{
   if (VG_(clo_backtrace_size) < SH_(clo_depth))
      VG_(clo_backtrace_size) = SH_(clo_depth);
   tl_assert(SH_(clo_depth) >= 1 && SH_(clo_depth) <= VG_(clo_backtrace_size));
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
   VG_(printf)(
"    --fast-alloc-requests=no|yes  run the malloc replacements' requests\n"
"                              from generated code, without the scheduler's\n"
"                              round trip (the same results, faster) [yes]\n"
"    --batch-rep-movs=no|yes   copy the rest of a rep movs in one helper call,\n"
"                              not a pass per element (the same results,\n"
"                              faster) [yes]\n");
}
