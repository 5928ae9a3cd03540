/*--------------------------------------------------------------------*/
/*--- stackheap: rep movs in one helper call.         sh_strmove.c ---*/
/*--------------------------------------------------------------------*/

/* VEX runs `rep movs` one element per pass through a superblock that
   jumps to itself, and the tool checks, after every byte, word or dword
   stored, the aligned word it completes (sh_instrument.c, check_store):
   that check loads a word whose last bytes were stored a few instructions
   before, which the CPU cannot forward from its store buffer, and the
   stall made it 11% of jq's run (glibc's memcpy and memmove use rep movsb
   from 2 KiB up).

   SH_(rep_movs) does the remaining passes of a forward `rep movs` in one
   call, with the same checks in the same order: element by element, in
   ascending order, the element is copied, then what the pass's generated
   code would have checked is checked (the completed aligned word for 1-,
   2- and 4-byte elements, the element itself for 8-byte ones) with the
   same guard (the value in the heap bounds, the destination outside the
   innermost frame, both read from the running thread's filter copy
   afresh: each pass is a new superblock, and a helper call may move the
   frame range), calling SH_(on_store_at) with the same destination,
   value and instruction address.  Nothing else runs between the passes
   of one rep instruction except when the thread leaves generated code
   (a thread switch or a signal), points whose place in a run is not
   deterministic anyway.  The registers end as the passes leave them
   (RSI and RDI advanced, RCX 0) and the instruction counter gets one per
   pass (RCX copying passes; the final pass, which finds RCX 0, is the
   one that called here).

   It declines (the passes then run as before) unless the copy goes
   forward and both ranges lie in anonymous client memory with the right
   permissions: memory the helper can touch without a fault (a file
   mapping past its end would raise SIGBUS in the tool, not the program). */

#include "pub_tool_aspacemgr.h"
#include "sh_global.h"
#include "libvex_guest_amd64.h"

static Bool anon_range(Addr a, SizeT len, Bool write)
{
   const NSegment* s;
   if (len == 0) return True;
   if (a + len - 1 < a) return False;
   s = VG_(am_find_nsegment)(a);
   return s != NULL && s->kind == SkAnonC && a + len - 1 <= s->end
          && s->hasR && (!write || s->hasW);
}

/* The last copy declined, so that its following passes (one per element)
   decline without looking the ranges up again. */
static Addr declined_ip, declined_rdi;
static ULong declined_rcx;

ULong SH_(n_rep_movs_batched) = 0;   /* (--stats=yes) */

static inline Bool in_range(Addr x, Addr lo, Addr span) { return x - lo < span; }

/* The checks the passes that stored [d, d + len) make, in their order:
   each element of 8 bytes as it is; for smaller elements, each aligned
   word whose last byte lies in the range.  The heap bounds cannot change
   here; the frame range can, in SH_(on_store_at), so it is read again
   after every call. */
static void check_words(Addr d, SizeT len, UWord size, Addr ip, volatile ShFilterCopy* fc)
{
   Addr heap_lo = fc->heap_lo, heap_span = fc->heap_span;
   Addr top_lo = fc->top_lo, top_span = fc->top_span;
   Addr w, last = d + len - 8;   /* (the last word ending at or before d + len) */
   if (size == 8) {
      w = d;
   } else {
      /* A pass checks the word its element ends on; 2- and 4-byte
         elements off their own alignment never end on one. */
      if ((d & (size - 1)) != 0) return;
      w = ((d + 8) & ~(Addr)7) - 8;   /* the word of the first aligned end > d */
   }
   for (; w <= last && w + 8 > w; w += 8) {
      ULong v = *(const ULong*)w;
      if (LIKELY(!in_range(v, heap_lo, heap_span)) || in_range(w, top_lo, top_span))
         continue;
      SH_(on_store_at)(w, v, ip);
      top_lo = fc->top_lo;
      top_span = fc->top_span;
   }
}

VG_REGPARM(3) UWord SH_(rep_movs)(UChar* gs, Addr ip, UWord size)
{
   VexGuestAMD64State* g = (VexGuestAMD64State*)gs;
   volatile ShFilterCopy* fc = SH_(filter_copy_at)(gs);
   ULong* counter = SH_(instr_counter_at)(gs);
   ULong n = g->guest_RCX, i;
   Addr src = g->guest_RSI, dst = g->guest_RDI;
   SizeT len;

   tl_assert(size == 1 || size == 2 || size == 4 || size == 8);
   if (g->guest_DFLAG != 1 || n < 2 || n > ((ULong)1 << 40)) return 0;
   if (ip == declined_ip && dst == declined_rdi + size && n == declined_rcx - 1) {
      declined_rdi = dst;
      declined_rcx = n;
      return 0;
   }
   len = n * size;
   if (!anon_range(src, len, False) || !anon_range(dst, len, True)) {
      declined_ip = ip;
      declined_rdi = dst;
      declined_rcx = n;
      return 0;
   }
   SH_(n_rep_movs_batched)++;
   if (dst + len <= src || src + len <= dst) {
      /* Apart: copying it all first leaves every word checked below as it
         was when its pass completed it (the copy writes each byte once). */
      VG_(memcpy)((void*)dst, (const void*)src, len);
      check_words(dst, len, size, ip, fc);
   } else {
      /* Overlapping: element by element, as the passes do. */
      for (i = 0; i < n; i++) {
         Addr s = src + i * size, d = dst + i * size;
         switch (size) {
         case 1: *(UChar*)d = *(const UChar*)s; break;
         case 2: *(UShort*)d = *(const UShort*)s; break;
         case 4: *(UInt*)d = *(const UInt*)s; break;
         default: *(ULong*)d = *(const ULong*)s; break;
         }
         check_words(d, size, size, ip, fc);
      }
   }
   g->guest_RSI = src + len;
   g->guest_RDI = dst + len;
   g->guest_RCX = 0;
   *counter += n;
   return 1;
}
