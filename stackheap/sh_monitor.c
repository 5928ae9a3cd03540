/*--------------------------------------------------------------------*/
/*--- stackheap: vgdb monitor commands.                sh_monitor.c ---*/
/*--------------------------------------------------------------------*/

/* A program that never exits (a server) is inspected with
   `vgdb --pid=N <command>` or gdb's `monitor <command>` when it runs with
   --vgdb=yes (the default).  The core hands every monitor command to the
   tool as a client request (VG_USERREQ__GDB_MONITOR_COMMAND); while it
   runs, the log (and so the text report) goes to vgdb's output. */

#include "pub_tool_gdbserver.h"
#include "pub_tool_options.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"

static void print_help(void)
{
   VG_(gdb_printf)(
"\n"
"stackheap monitor commands:\n"
"  report [<file>]    write the reports now, as SH_DUMP_REPORT does: the text\n"
"                     report here, the JSON report into <file> (default: the\n"
"                     --json-out-file name numbered like a dump), the\n"
"                     --xtree-out-file tree numbered like a dump\n"
"  stats              totals so far: blocks, bytes, live blocks, verdicts\n"
"  collect on|off     start or stop collecting, as SH_START_COLLECTING and\n"
"                     SH_STOP_COLLECTING do\n"
"\n");
}

static void report_cmd(const HChar* file)
{
   HChar* written;
   if (file != NULL && (VG_(strchr)(file, '%') != NULL || file[0] == '~')) {
      /* The option's %p/%q expansion exits on a malformed pattern (and
         on a leading '~'): a monitor command must never end the program. */
      VG_(gdb_printf)("stackheap: the file name may not contain '%%' or begin with '~': %s\n",
                      file);
      return;
   }
   written = SH_(dump_report_to)("monitor", file);
   if (written != NULL) {
      VG_(gdb_printf)("stackheap: JSON report written to %s\n", written);
      VG_(free)(written);
   } else if (file == NULL && VG_(strcmp)(SH_(clo_json_out_file), "none") == 0) {
      VG_(gdb_printf)("stackheap: no JSON report (--json-out-file=none; give a file name)\n");
   }
}

static void stats_cmd(void)
{
   UInt i, n = SH_(n_sites)(), sites = 0;
   ULong judged = 0, eligible = 0, eligible_bytes = 0;
   Int c;
   for (i = 0; i < n; i++) {
      const Site* s = SH_(site_at)(i);
      if (s->blocks == 0) continue;
      sites++;
      eligible += SH_(site_eligible_blocks)(s);
      eligible_bytes += SH_(site_eligible_bytes)(s);
      for (c = 0; c < SH_N_CLASSES; c++) judged += s->classes[c];
   }
   VG_(gdb_printf)("stackheap: collecting %s\n", SH_(collecting) ? "on" : "off");
   VG_(gdb_printf)("instructions:    %llu\n", SH_(instrs));
   VG_(gdb_printf)("blocks:          %llu\n", SH_(total_blocks));
   VG_(gdb_printf)("bytes:           %llu\n", SH_(total_bytes));
   VG_(gdb_printf)("sites:           %u\n", sites);
   VG_(gdb_printf)("live blocks:     %llu\n", SH_(n_live_blocks)());
   VG_(gdb_printf)("live bytes:      %llu\n", SH_(live_bytes));
   VG_(gdb_printf)("peak live bytes: %llu\n", SH_(peak_live_bytes));
   /* Live blocks get their verdict when freed, or at exit or a report. */
   VG_(gdb_printf)("judged blocks:   %llu\n", judged);
   VG_(gdb_printf)("stack-eligible:  %llu blocks, %llu bytes\n", eligible, eligible_bytes);
   VG_(gdb_printf)("classes:        ");
   for (c = 0; c < SH_N_CLASSES; c++) {
      Int k = SH_(class_report_order)[c];
      VG_(gdb_printf)(" %s %llu", SH_(class_name)[k], SH_(total_classes)[k]);
   }
   VG_(gdb_printf)("\n");
}

static void collect_cmd(const HChar* what)
{
   Int k = what ? VG_(keyword_id)("on off", what, kwd_report_all) : -1;
   if (k < 0) {
      if (what == NULL)
         VG_(gdb_printf)("stackheap: collect needs on or off\n");
      return;
   }
   SH_(collecting) = (k == 0);
   VG_(gdb_printf)("stackheap: collecting %s\n", SH_(collecting) ? "on" : "off");
}

Bool SH_(handle_monitor_command)(ThreadId tid, const HChar* req)
{
   HChar s[VG_(strlen)(req) + 1];   /* strtok_r writes into its string */
   HChar* save;
   HChar* word;
   /* Count the instructions the running thread has run since it last
      stopped (a command from inside generated code, --vgdb=full). */
   if (VG_(get_running_tid)() != VG_INVALID_THREADID)
      SH_(fold_instr_count)(VG_(get_running_tid)());
   VG_(strcpy)(s, req);
   word = VG_(strtok_r)(s, " ", &save);
   if (word == NULL) return False;
   switch (VG_(keyword_id)("help report stats collect", word,
                           kwd_report_duplicated_matches)) {
   case -2:   /* ambiguous: keyword_id has said so */
      return True;
   case -1:   /* not ours (the core's own "v." commands come here too) */
      return False;
   case 0:
      print_help();
      return True;
   case 1:
      report_cmd(VG_(strtok_r)(NULL, " ", &save));
      return True;
   case 2:
      stats_cmd();
      return True;
   case 3:
      collect_cmd(VG_(strtok_r)(NULL, " ", &save));
      return True;
   default:
      tl_assert(0);
      return False;
   }
}
