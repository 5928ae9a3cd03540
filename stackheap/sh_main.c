/*--------------------------------------------------------------------*/
/*--- stackheap: which heap blocks could have lived on the stack.  ---*/
/*--- sh_main.c: start-up, wiring and exit.                         ---*/
/*--------------------------------------------------------------------*/

/*
   stackheap shadows every stack frame and every heap block of the
   program.  A block "could have lived on the stack" when it was freed
   while a frame of its allocation stack was still active, and its
   address was never stored anywhere that outlives that frame (globals,
   other heap blocks, other threads).  The files, by responsibility:

     sh_options.c     command-line options
     sh_threads.c     per-thread state          sh_frames.c   shadow stacks
     sh_blocks.c      live-block table           sh_alloc.c    allocation events, verdicts
     sh_heap.c        the program's memory (size classes, else the core's arena)
     sh_sites.c       allocation sites, phases   sh_escape.c   pointer escapes
     sh_holders.c     blocks held by other blocks (their verdicts wait for the holders')
     sh_records.c     block side records (rare fields), interned store points
     sh_instrument.c  VEX IR instrumentation     sh_clientreq.c client requests
     sh_strmove.c     rep movs copied in one helper call, with the passes' checks
     sh_describe.c    debug-info names           sh_advice.c   severities, suggestions
     sh_report_text.c the log report             sh_report_json.c the JSON report
     sh_pools.c       memory pools (mempool client requests)
     sh_misuse.c      warnings about allocator misuse, once per stack
     sh_xtree.c       the callgrind-format tree  sh_monitor.c  vgdb monitor commands
     sh_preload.c     code preloaded into the program (pthread_create wrapper)
     sh_vgapi.c       adapters to the Valgrind release at hand (3.19 .. 3.27)
*/

#include "pub_tool_libcproc.h"
#include "pub_tool_machine.h"
#include "pub_tool_options.h"
#include "pub_tool_replacemalloc.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_tooliface.h"
#include "sh_global.h"
#include "sh_vgapi.h"

ULong SH_(instrs) = 0;
Bool  SH_(collecting) = True;
ULong SH_(n_off_stack_blocks) = 0;

static void sh_post_clo_init(void)
{
   SH_(options_post_init)();
   SH_(collecting) = SH_(clo_collect_atstart);
   SH_(threads_watch_fork)();
   SH_(instrument_init)();
}

static void sh_thread_created(ThreadId parent, ThreadId child)
{
   SH_(thread_created)(parent, child);
}

static void sh_first_insn(ThreadId tid)
{
   SH_(thread_first_insn)(tid);
}

static void sh_start_client_code(ThreadId tid, ULong blocks_done)
{
   SH_(thread_runs)(tid);
}

static void sh_stop_client_code(ThreadId tid, ULong blocks_done)
{
   SH_(fold_instr_count)(tid);
}

static void sh_thread_exit(ThreadId tid)
{
   SH_(thread_exited)(tid);
}

static void sh_signal_delivered(ThreadId tid, Int sig, Bool alt)
{
   SH_(signal_delivered)(tid, sig, alt);
}

static void sh_signal_returned(ThreadId tid, Int sig)
{
   SH_(signal_returned)(tid, sig);
}

static Bool sh_client_request(ThreadId tid, UWord* arg, UWord* ret)
{
   return SH_(handle_client_request)(tid, arg, ret);
}

/* --sanity-level: the core calls the cheap check often and the
   expensive one at level 2 and up (at 3, at every system call).  At
   level 1, the default, the core still calls the expensive one ever more
   rarely; there it checks what is O(threads), not the walks over every
   live block and site, which took 10-15% of the run on programs with
   many sites (python, jq). */
static ULong n_cheap_checks = 0, n_full_checks = 0;

static Bool sh_cheap_sanity(void)
{
   n_cheap_checks++;
   return SH_(threads_sane)(False) && SH_(alloc_sane)(False);
}

static Bool sh_expensive_sanity(void)
{
   n_full_checks++;
   if (SH_VG_SANITY_LEVEL() < 2)
      return SH_(threads_sane)(True) && SH_(alloc_sane)(False);
   return SH_(threads_sane)(True) && SH_(instr_counts_sane)() && SH_(filter_copy_sane)()
          && SH_(blocks_sane)()
          && SH_(alloc_sane)(True) && SH_(sites_sane)();
}

/* "FILE.json" -> "FILE.N.json"; other names get ".N" appended. */
static HChar* numbered_name(const HChar* path, UInt n)
{
   Int len = VG_(strlen)(path);
   HChar* out = VG_(malloc)("sh.dumpname", len + 16);
   if (len > 5 && VG_(strcmp)(path + len - 5, ".json") == 0) {
      /* (Valgrind's printf ignores a "%.*s" precision: cut by hand.) */
      VG_(memcpy)(out, path, len - 5);
      VG_(sprintf)(out + len - 5, ".%u.json", n);
   } else
      VG_(sprintf)(out, "%s.%u", path, n);
   return out;
}

/* False when the JSON file could not be written (the log says why). */
static Bool write_reports(const Report* r, const HChar* json_path, const HChar* xtree_path)
{
   Bool ok = True;
   if (VG_(clo_verbosity) > 0)
      SH_(write_text_report)(r);
   if (json_path != NULL)
      ok = SH_(write_json_report)(r, json_path);
   if (xtree_path != NULL)
      SH_(write_xtree_report)(r, xtree_path);
   return ok;
}

/* An output file option's value expanded now, NULL for "none". */
static HChar* path_now(const HChar* option, const HChar* value)
{
   if (VG_(strcmp)(value, "none") == 0) return NULL;
   return VG_(expand_file_name)(option, value);
}

static HChar* json_path_now(void)
{
   return path_now("--json-out-file", SH_(clo_json_out_file));
}

static HChar* xtree_path_now(void)
{
   return path_now("--xtree-out-file", SH_(clo_xtree_out_file));
}

/* A dump counts the blocks still live as if the program ended here: they
   are counted in that report, and uncounted afterwards. */
static Long live_delta;

static void count_live(Block* b)
{
   ShClass c;
   if (!b->counted || b->site == NULL) return;
   c = SH_(class_if_never_freed)(b);
   b->site->classes[c] += live_delta;
   SH_(total_classes)[c] += live_delta;
}

/* Blocks freed but waiting for their holders' verdicts count as if the
   program ended here too: their live holders would never be freed, so
   they are heap (or their own global/thread escape). */
static void count_pending(Block* b, ShClass c)
{
   b->site->classes[c] += live_delta;
   SH_(total_classes)[c] += live_delta;
}

static UInt n_dumps = 0;

void SH_(dump_report)(const HChar* label)
{
   HChar* path = SH_(dump_report_to)(label, NULL);
   if (path) VG_(free)(path);
}

/* json_file (expanded as the option is) replaces the numbered JSON file
   when given: the monitor's `report FILE`.  Returns the JSON file's name
   (the caller frees it), NULL when none was asked for or it could
   not be written. */
HChar* SH_(dump_report_to)(const HChar* label, const HChar* json_file)
{
   Report r;
   HChar* base = json_path_now();
   HChar* xt_base = xtree_path_now();
   HChar* path;
   HChar* xt_path;
   n_dumps++;
   path = json_file ? VG_(expand_file_name)("report", json_file)
                    : base ? numbered_name(base, n_dumps) : NULL;
   xt_path = xt_base ? numbered_name(xt_base, n_dumps) : NULL;
   live_delta = 1;
   SH_(blocks_for_each)(count_live);
   SH_(holders_for_each_pending)(count_pending);
   SH_(build_report)(&r, label);
   if (!write_reports(&r, path, xt_path) && path) {
      VG_(free)(path);
      path = NULL;
   }
   SH_(free_report)(&r);
   live_delta = -1;
   SH_(blocks_for_each)(count_live);
   SH_(holders_for_each_pending)(count_pending);
   if (base) VG_(free)(base);
   if (xt_path) VG_(free)(xt_path);
   if (xt_base) VG_(free)(xt_base);
   return path;
}

static void sh_fini(Int exitcode)
{
   Report r;
   HChar* path;
   HChar* xt_path;
   Bool crossed;
   SH_(pools_check_at_exit)();
   SH_(finish_live_blocks)();
   path = json_path_now();
   xt_path = xtree_path_now();
   SH_(build_report)(&r, NULL);
   write_reports(&r, path, xt_path);
   crossed = SH_(check_thresholds)(&r);
   if (VG_(clo_stats)) {
      VG_(dmsg)("stackheap: %'llu calls seen, %'llu store checks, %'llu hit a live block\n",
                r.frames_pushed, SH_(n_store_checks), SH_(n_store_hits));
      VG_(dmsg)("stackheap: %'llu allocator requests handled without leaving generated code\n",
                SH_(n_fast_requests));
      VG_(dmsg)("stackheap: %'llu rep movs copies done in one helper call\n",
                SH_(n_rep_movs_batched));
      VG_(dmsg)("stackheap: %'llu live blocks at exit, %'u sites\n",
                SH_(n_live_blocks)(), SH_(n_sites)());
      VG_(dmsg)("stackheap: %'llu blocks waited on holders at most at once, "
                "%'llu holders overflowed\n", SH_(max_pending), SH_(holders_overflowed));
      VG_(dmsg)("stackheap: block records %lu bytes each, side records %lu bytes each "
                "(%'llu live at most), block table %'llu bytes\n", sizeof(Block),
                sizeof(BlockExtra), SH_(max_block_extras)(), SH_(blocks_table_bytes)());
      VG_(dmsg)("stackheap: innermost-frame filter %s\n",
                SH_(single_threaded) ? "on (single-threaded)" : "off (threads)");
      VG_(dmsg)("stackheap: %'llu cheap and %'llu full sanity checks passed\n",
                n_cheap_checks, n_full_checks);
      SH_(sites_print_stats)();
      SH_(heap_print_stats)();
   }
   SH_(free_report)(&r);
   if (path) VG_(free)(path);
   if (xt_path) VG_(free)(xt_path);
   if (crossed && SH_VG_ERROR_EXITCODE() > 0)
      VG_(exit)(SH_VG_ERROR_EXITCODE());
}

static void sh_pre_clo_init(void)
{
   VG_(details_name)            ("stackheap");
   VG_(details_version)         (SH_VERSION);
   VG_(details_description)     ("which heap blocks could have lived on the stack");
   VG_(details_copyright_author)("Copyright (C) 2026, the stackheap developers.");
   VG_(details_bug_reports_to)  ("the stackheap issue tracker");
   VG_(details_avg_translation_sizeB)(600);

   VG_(basic_tool_funcs)(sh_post_clo_init, SH_(instrument), sh_fini);

   VG_(needs_command_line_options)(SH_(process_cmd_line_option),
                                   SH_(print_usage), SH_(print_debug_usage));
   VG_(needs_client_requests)(sh_client_request);
   VG_(needs_sanity_checks)(sh_cheap_sanity, sh_expensive_sanity);
   SH_(needs_malloc_replacement)();   /* sh_vgapi.c */

   VG_(track_pre_thread_ll_create)(sh_thread_created);
   VG_(track_pre_thread_first_insn)(sh_first_insn);
   VG_(track_pre_thread_ll_exit)(sh_thread_exit);
   VG_(track_start_client_code)(sh_start_client_code);
   VG_(track_stop_client_code)(sh_stop_client_code);
   VG_(track_pre_deliver_signal)(sh_signal_delivered);
   VG_(track_post_deliver_signal)(sh_signal_returned);

   /* With chasing, VEX follows direct calls into the callee and the call
      disappears from the IR; frames need every call. */
   VG_(clo_vex_control).guest_chase = False;
   /* Name inlined functions in stacks by default, as memcheck does;
      --read-inline-info=no still turns it off. */
   SH_VG_READ_INLINE_INFO_BY_DEFAULT();

   SH_(threads_init)();
   SH_(blocks_init)();
   SH_(heap_init)();
   SH_(pools_init)();
   SH_(sites_init)();
}

VG_DETERMINE_INTERFACE_VERSION(sh_pre_clo_init)
