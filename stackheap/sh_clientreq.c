/*--------------------------------------------------------------------*/
/*--- stackheap: client requests.                  sh_clientreq.c  ---*/
/*--------------------------------------------------------------------*/

#include "pub_tool_clreq.h"
#include "pub_tool_machine.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "sh_global.h"
#include "stackheap.h"


/* The caller of the function that issued the request (for the hand-off
   made inside our pthread_create wrapper). */
static Addr caller_ip(ThreadId tid)
{
   Addr ips[2];
   UInt n = VG_(get_StackTrace)(tid, ips, 2, NULL, NULL, 0);
   return n >= 2 ? ips[1] : (n == 1 ? ips[0] : 0);
}

static void thread_handoff(ThreadId tid, Addr fn, Addr arg)
{
   ThreadState* ts = SH_(thread)(tid);
   Block* b;
   SH_(register_root_fn)(tid, fn, arg);
   ts->handoff_value = arg;
   b = arg ? SH_(block_containing)(arg) : NULL;
   if (b != NULL)
      SH_(escape_block)(b, SH_CLASS_THREAD, caller_ip(tid), arg);
}

static HChar* client_string(UWord a, const HChar* dflt)
{
   if (a == 0) return VG_(strdup)("sh.str", dflt);
   return VG_(strdup)("sh.str", (const HChar*)a);
}

static void warn_unsupported_once(const HChar* what)
{
   static Bool warned = False;
   if (warned) return;
   warned = True;
   VG_(umsg)("Warning: stackheap ignores %s (and other mempool trims/moves): blocks of "
             "that pool keep their addresses\n", what);
}

Bool SH_(handle_client_request)(ThreadId tid, UWord* arg, UWord* ret)
{
   switch (arg[0]) {
   case VG_USERREQ__MALLOCLIKE_BLOCK:
      if (arg[1] != 0) SH_(custom_alloc)(tid, arg[1], arg[2], 0);
      *ret = 0;
      return True;
   case VG_USERREQ__FREELIKE_BLOCK:
      if (arg[1] != 0) SH_(custom_free)(tid, arg[1]);
      *ret = 0;
      return True;
   case VG_USERREQ__RESIZEINPLACE_BLOCK:
      if (arg[1] != 0) SH_(custom_resize)(tid, arg[1], arg[2], arg[3]);
      *ret = 0;
      return True;
   /* Memory pools: their chunks are blocks like MALLOCLIKE ones. */
   case VG_USERREQ__CREATE_MEMPOOL:
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_ALLOC:
      if (arg[2] != 0) SH_(custom_alloc)(tid, arg[2], arg[3], arg[1]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_FREE:
      if (arg[2] != 0) SH_(custom_free)(tid, arg[2]);
      *ret = 0;
      return True;
   case VG_USERREQ__DESTROY_MEMPOOL:
      SH_(destroy_pool)(tid, arg[1]);
      *ret = 0;
      return True;
   case VG_USERREQ__MEMPOOL_CHANGE:
      /* (pool, old address, new address, size): a resize in place only. */
      if (arg[2] == arg[3]) {
         SH_(custom_resize)(tid, arg[2], 0, arg[4]);
      } else {
         SH_(custom_free)(tid, arg[2]);
         SH_(custom_alloc)(tid, arg[3], arg[4], arg[1]);
      }
      *ret = 0;
      return True;
   case VG_USERREQ__GDB_MONITOR_COMMAND: {
      Bool handled = SH_(handle_monitor_command)(tid, (const HChar*)arg[1]);
      *ret = handled ? 1 : 0;
      return handled;
   }
   case VG_USERREQ__MEMPOOL_TRIM:
   case VG_USERREQ__MOVE_MEMPOOL:
      warn_unsupported_once(arg[0] == VG_USERREQ__MEMPOOL_TRIM
                            ? "VALGRIND_MEMPOOL_TRIM" : "VALGRIND_MOVE_MEMPOOL");
      *ret = 0;
      return True;
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
      thread_handoff(tid, arg[1], arg[2]);
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
