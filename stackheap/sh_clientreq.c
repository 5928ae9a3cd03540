/*--------------------------------------------------------------------*/
/*--- stackheap: client requests.                  sh_clientreq.c  ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_clreq.h"
#include "pub_tool_machine.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"
#include "sh_vgapi.h"
#include "stackheap.h"
#include "libvex_guest_offsets.h"


/* The caller of the function that issued the request (for the hand-off
   made inside our pthread_create wrapper). */
static Addr caller_ip(ThreadId tid)
{
   Addr ips[2];
   UInt n = VG_(get_StackTrace)(tid, ips, 2, NULL, NULL, 0);
   return n >= 2 ? ips[1] : (n == 1 ? ips[0] : 0);
}

/* ret: the wrapper's return address into the program, 0 if unknown. */
static void thread_handoff(ThreadId tid, Addr fn, Addr arg, Addr ret)
{
   ThreadState* ts = SH_(thread)(tid);
   Block* b;
   SH_(register_root_fn)(tid, fn, arg);
   ts->handoff_value = arg;
   b = arg ? SH_(block_containing)(arg) : NULL;
   if (b != NULL)
      SH_(escape_block)(b, SH_CLASS_THREAD, ret ? ret - 1 : caller_ip(tid), arg);
}

static HChar* client_string(UWord a, const HChar* dflt)
{
   if (a == 0) return VG_(strdup)("sh.str", dflt);
   return VG_(strdup)("sh.str", (const HChar*)a);
}

/* The malloc replacements in the preload reach the tool's allocator
   through VG_USERREQ__CLIENT_CALLn requests: each one leaves generated
   code for the scheduler and comes back (6-8% of an allocation-heavy
   run).  Generated code calls this at the end of every superblock that
   ends in a client request (sh_instrument.c); for a call of one of our
   malloc callbacks it does here what the core and the tool would do on
   that round trip, in the same order, and the superblock then goes on to
   the next instruction:
     - stop_client_code: fold the thread's instruction count;
     - the core's CLIENT_CALLn: f(tid, args...), the result in guest RDX;
     - start_client_code: SH_(thread_runs) (the innermost-frame filter).
   The guest state it reads and writes (RIP, set to the next instruction
   as the exit would; RSP and RBP for unwinding; RDX; the shadow area with
   the counter) is declared to VEX, so it is exact here.  Anything else
   (other requests, other functions) returns 0 and takes the normal exit.
   Nothing the core does on that path affects reports: it may deliver a
   pending asynchronous signal or switch threads there, which it also
   does at other points of the run. */
ULong SH_(n_fast_requests) = 0;   /* (--stats=yes) */

VG_REGPARM(1) UWord SH_(fast_client_call)(UWord* arg)
{
   ThreadId tid;
   UWord res;
   Addr f;
   switch (arg[0]) {
   case VG_USERREQ__CLIENT_CALL1:
   case VG_USERREQ__CLIENT_CALL2:
   case VG_USERREQ__CLIENT_CALL3:
      break;
   default:
      return 0;
   }
   f = arg[1];
   if (!SH_(is_malloc_callback)(f)) return 0;
   SH_(n_fast_requests)++;
   tid = VG_(get_running_tid)();
   SH_(fold_instr_count)(tid);
   switch (arg[0]) {
   case VG_USERREQ__CLIENT_CALL1:
      res = ((UWord (*)(ThreadId, UWord))f)(tid, arg[2]);
      break;
   case VG_USERREQ__CLIENT_CALL2:
      res = ((UWord (*)(ThreadId, UWord, UWord))f)(tid, arg[2], arg[3]);
      break;
   default:
      res = ((UWord (*)(ThreadId, UWord, UWord, UWord))f)(tid, arg[2], arg[3], arg[4]);
      break;
   }
   VG_(set_shadow_regs_area)(tid, 0, OFFSET_amd64_RDX, sizeof res, (const UChar*)&res);
   SH_(thread_runs)(tid);
   return 1;
}

Bool SH_(handle_client_request)(ThreadId tid, UWord* arg, UWord* ret)
{
   switch (arg[0]) {
   case VG_USERREQ__MALLOCLIKE_BLOCK:
      SH_(declared_block_range)(arg[1], arg[2]);
      if (arg[1] != 0) SH_(custom_alloc)(tid, arg[1], arg[2], 0);
      *ret = 0;
      return True;
   case VG_USERREQ__FREELIKE_BLOCK:
      if (arg[1] != 0) SH_(custom_free)(tid, arg[1]);
      *ret = 0;
      return True;
   case VG_USERREQ__RESIZEINPLACE_BLOCK:
      SH_(declared_block_range)(arg[1], arg[3]);
      if (arg[1] != 0) SH_(custom_resize)(tid, arg[1], arg[2], arg[3]);
      *ret = 0;
      return True;
   /* Memory pools (sh_pools.c). */
   case VG_USERREQ__CREATE_MEMPOOL:   /* (pool, rzB, is_zeroed, flags) */
      SH_(pool_create)(tid, arg[1], arg[4]);
      *ret = 0;
      return True;
   case VG_USERREQ__DESTROY_MEMPOOL:
      SH_(pool_destroy)(tid, arg[1]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_ALLOC:    /* (pool, addr, size) */
      SH_(declared_block_range)(arg[2], arg[3]);
      SH_(pool_alloc)(tid, arg[1], arg[2], arg[3]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_FREE:     /* (pool, addr) */
      if (arg[2] != 0) SH_(pool_free)(tid, arg[1], arg[2]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_TRIM:     /* (pool, addr, size): keep that range */
      SH_(pool_trim)(tid, arg[1], arg[2], arg[3]);
      *ret = 0;
      return True;
   case VG_USERREQ__MOVE_MEMPOOL:     /* (old handle, new handle) */
      SH_(pool_move)(tid, arg[1], arg[2]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_CHANGE:   /* (pool, old addr, new addr, size) */
      SH_(declared_block_range)(arg[3], arg[4]);
      SH_(pool_change)(tid, arg[1], arg[2], arg[3], arg[4]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_EXISTS:
      *ret = SH_(pool_exists)(arg[1]);
      return True;
   /* Core requests added after 3.19 (valgrind.h of 3.20+): the 3.19 core
      passes them on to the tool. */
   case 0x1003:   /* VG_USERREQ__VALGRIND_REPLACES_MALLOC */
      *ret = 1;
      return True;
   case 0x1004: { /* VG_USERREQ__VALGRIND_GET_TOOLNAME (buf, len) */
      const HChar* name = "stackheap";
      HChar* buf = (HChar*)arg[1];
      SizeT len = arg[2];
      if (buf != NULL && len > 0) {
         VG_(strncpy)(buf, name, len);
         buf[len - 1] = '\0';
      }
      *ret = VG_(strlen)(name) + 1;
      return True;
   }
   case VG_USERREQ__GDB_MONITOR_COMMAND: {
      Bool handled = SH_(handle_monitor_command)(tid, (const HChar*)arg[1]);
      *ret = handled ? 1 : 0;
      return handled;
   }
   default:
      break;
   }
   if (!VG_IS_TOOL_USERREQ('S', 'H', arg[0]))
      return False;
   switch (arg[0]) {
   case SH_USERREQ__START_COLLECTING:
      SH_(collecting) = True;
      break;
   case SH_USERREQ__STOP_COLLECTING:
      SH_(collecting) = False;
      break;
   case SH_USERREQ__DUMP_REPORT: {
      HChar* label = client_string(arg[1], "dump");
      SH_(dump_report)(label);
      VG_(free)(label);
      break;
   }
   case SH_USERREQ__SET_PHASE:
      SH_(set_phase)(client_string(arg[1], "(unnamed)"));
      break;
   case SH_USERREQ__THREAD_HANDOFF:
      thread_handoff(tid, arg[1], arg[2], arg[3]);
      break;
   case SH_USERREQ__THREAD_HANDOFF_DONE:
      SH_(thread)(tid)->handoff_value = 0;
      break;
   default:
      VG_(umsg)("Warning: unknown stackheap client request 0x%lx (ignored)\n", arg[0]);
      return False;
   }
   *ret = 0;
   return True;
}
