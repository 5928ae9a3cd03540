/*--------------------------------------------------------------------*/
/*--- stackheap: VEX IR instrumentation.           sh_instrument.c ---*/
/*--------------------------------------------------------------------*/

/* What is added to each superblock:
   - an inline guest-instruction counter (the time base), bumped before
     every side exit and at the end, kept in the shadow guest state;
   - at a call, SH_(on_call)(SP after the call, target); nothing at a
     return (frames are popped lazily, see sh_frames.c);
   - at the entry of main or of a thread start routine, SH_(on_root_entry);
   - after every store that could carry a pointer, SH_(on_store), guarded
     by an inline range test against the heap's bounds so that the helper
     runs only for values that may point into a block.  Vector stores are
     checked lane by lane; narrower stores made by string moves (rep
     movsb) check the aligned word they complete, which catches pointers
     copied a byte at a time; CAS and store-conditional only when they
     succeed; dirty helpers that write memory have their whole region
     scanned.  A second inline test skips stores into the innermost frame
     (sh_frames.c explains why that is safe).  Constants that cannot point
     into a block are not checked at all (never_a_block_address,
     in_own_file_mapping);
   - at the start of a superblock that begins with a `rep movs`, an offer
     of the rest of the copy to SH_(rep_movs) (sh_strmove.c), which does
     it in one call with the same checks;
   - at the end of a superblock that ends in a client request, an offer
     of the request to SH_(fast_client_call) (sh_clientreq.c), which runs
     the malloc replacements' requests without the scheduler. */

#include "pub_tool_aspacemgr.h"
#include "pub_tool_debuginfo.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_vki.h"
#include "pub_tool_machine.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_transtab.h"
#include "sh_global.h"
#include "libvex_guest_offsets.h"
#include "libvex_guest_amd64.h"

typedef struct {
   IRSB* sb;
   Int    counter_off;  /* guest-state offset of the instruction counter */
   Int    copy_off;     /* guest-state offset of the filter copy (ShFilterCopy) */
   IRExpr* top_lo;      /* the innermost frame's range, loaded once per */
   IRExpr* top_span;    /* superblock, on first use (NULL: not yet) */
   Addr   ip;           /* guest address of the current instruction */
   Addr   rip;          /* what the guest RIP holds here, as far as the IR shows (0: unknown) */
   Bool   string_move;  /* that instruction is a (rep) movs */
} Ctx;

static IRExpr* mk_u64(ULong v) { return IRExpr_Const(IRConst_U64(v)); }

static IRTemp assign(Ctx* c, IRType ty, IRExpr* e)
{
   IRTemp t = newIRTemp(c->sb->tyenv, ty);
   addStmtToIRSB(c->sb, IRStmt_WrTmp(t, e));
   return t;
}

static IRExpr* atom(Ctx* c, IRType ty, IRExpr* e)
{
   if (e->tag == Iex_RdTmp || e->tag == Iex_Const) return e;
   return IRExpr_RdTmp(assign(c, ty, e));
}

/* The bounds the guards read, never baked in as constants (translations
   outlive the values), are read from the running thread's copy of them
   in its shadow guest state (see "The store filter's bounds" below): one
   load relative to the guest-state register, which the instruction
   selector folds into the sub or cmp using it, where a global's 64-bit
   address needs a movabs first.  The heap bounds are read at each use (a
   load from L1 costs less than a value kept live across the superblock's
   calls); they change only in allocator calls, which end superblocks
   (client requests).  The innermost-frame range is read once per
   superblock, on first use: it changes at calls (which end superblocks
   too) and when a store helper catches up with returns; within the rest
   of that superblock the older, smaller range is still below the stack
   pointer, so skipping stores into it stays safe.  (Which stores reach
   the helper decides which one a home pin names: keep this as it is.) */
static IRExpr* get_copy(Ctx* c, SizeT field)
{
   return IRExpr_RdTmp(assign(c, Ity_I64, IRExpr_Get(c->copy_off + field, Ity_I64)));
}

static void load_top_frame(Ctx* c)
{
   if (c->top_lo != NULL) return;
   c->top_lo = get_copy(c, offsetof(ShFilterCopy, top_lo));
   c->top_span = get_copy(c, offsetof(ShFilterCopy, top_span));
}

static IRExpr* and1(Ctx* c, IRExpr* a, IRExpr* b)
{
   if (a == NULL) return b;
   return IRExpr_RdTmp(assign(c, Ity_I1, IRExpr_Binop(Iop_And1, a, b)));
}

/* The guard of a store check: value v may point into a block (it lies in
   [heap_lo, heap_lo + heap_span)) and dest is outside the innermost frame
   ([top_lo, top_lo + top_span)), written as one unsigned compare,
       (dest - top_lo <u top_span ? ~0 : v - heap_lo) <u heap_span
   which is exactly the conjunction (~0 is below no value).  The
   instruction selector makes it sub, sub, cmp, cmov, cmp and a
   conditional call, where the conjunction of two Ity_I1 values took two
   setcc, an and and a test.  fresh: read the frame range now, not the
   superblock's copy (the completed words of string moves, whose check
   used to read it in a helper). */
static IRExpr* store_guard(Ctx* c, IRExpr* dest, IRExpr* v, Bool fresh)
{
   IRExpr *lo, *span;
   IRTemp inside, off, rel;
   if (fresh) {
      lo = get_copy(c, offsetof(ShFilterCopy, top_lo));
      span = get_copy(c, offsetof(ShFilterCopy, top_span));
   } else {
      load_top_frame(c);
      lo = c->top_lo;
      span = c->top_span;
   }
   off = assign(c, Ity_I64, IRExpr_Binop(Iop_Sub64, dest, lo));
   inside = assign(c, Ity_I1, IRExpr_Binop(Iop_CmpLT64U, IRExpr_RdTmp(off), span));
   rel = assign(c, Ity_I64, IRExpr_Binop(Iop_Sub64, v,
                                         get_copy(c, offsetof(ShFilterCopy, heap_lo))));
   rel = assign(c, Ity_I64, IRExpr_ITE(IRExpr_RdTmp(inside), mk_u64(~0ULL), IRExpr_RdTmp(rel)));
   return IRExpr_RdTmp(assign(c, Ity_I1, IRExpr_Binop(Iop_CmpLT64U, IRExpr_RdTmp(rel),
                        get_copy(c, offsetof(ShFilterCopy, heap_span)))));
}

/* Declares one more piece of guest state a dirty helper reads or writes. */
static void declare_fx(IRDirty* di, IREffect fx, Int offset, Int size)
{
   Int k = di->nFxState++;
   tl_assert(k < VEX_N_FXSTATE);
   di->fxState[k].fx = fx;
   di->fxState[k].offset = offset;
   di->fxState[k].size = size;
   di->fxState[k].nRepeats = 0;
   di->fxState[k].repeatLen = 0;
}

/* on_store may move the innermost-frame range (it writes the copy). */
static void declare_writes_top_copy(Ctx* c, IRDirty* di)
{
   declare_fx(di, Ifx_Modify, c->copy_off + offsetof(ShFilterCopy, top_lo), 2 * sizeof(Addr));
}

/* The helpers that stand in for the scheduler or for many passes
   (add_fast_request, add_rep_movs_batch) keep the tool's whole shadow
   area 1 up to date: the counter and the filter copy. */
static void declare_modifies_tool_shadow(const VexGuestLayout* layout, IRDirty* di)
{
   declare_fx(di, Ifx_Modify, layout->total_sizeB, layout->total_sizeB);
}

/* Adds di, whose result says whether it did the work, and an exit to dst
   taken when it did. */
static void add_offer(Ctx* c, const VexGuestLayout* layout, IRDirty* di, IRTemp handled,
                      IRConst* dst)
{
   addStmtToIRSB(c->sb, IRStmt_Dirty(di));
   addStmtToIRSB(c->sb, IRStmt_Exit(
      IRExpr_RdTmp(assign(c, Ity_I1, IRExpr_Binop(Iop_CmpNE64, IRExpr_RdTmp(handled),
                                                  mk_u64(0)))),
      Ijk_Boring, dst, layout->offset_IP));
}

/* The store's address is passed to the helper as a constant (a 10-byte
   movabs), or, when the guest RIP is known to hold it, as the guest-state
   pointer (a 3-byte move) from which on_store reads RIP.  Known: c->rip
   follows the IR's writes to RIP from the superblock's start, where it
   holds the address the superblock was entered at (closure->nraddr; the
   dispatcher and every exit write it before the jump): a constant Put
   sets it, anything else that may write RIP makes it unknown.  Reading
   the IR after VEX's optimisation is what makes it exact whatever
   --vex-iropt-register-updates says: the default mode writes RIP back
   before each memory access, so RIP is the store's instruction at nearly
   every store, but a Put removed as redundant is simply not seen, and
   neither is a write that never happens, as in an unrolled loop's second
   copy or a redirected function's first instruction (RIP still at the
   function the program called), which then pass the constant. */
static void track_rip(Ctx* c, const IRStmt* st)
{
   Int lo = OFFSET_amd64_RIP, hi = OFFSET_amd64_RIP + 8, i;
   switch (st->tag) {
   case Ist_Put: {
      Int off = st->Ist.Put.offset;
      const IRExpr* d = st->Ist.Put.data;
      Int size = sizeofIRType(typeOfIRExpr(c->sb->tyenv, d));
      if (off + size <= lo || off >= hi) return;
      c->rip = (off == lo && d->tag == Iex_Const && d->Iex.Const.con->tag == Ico_U64)
               ? d->Iex.Const.con->Ico.U64 : 0;
      return;
   }
   case Ist_PutI:
      c->rip = 0;   /* (arrays of registers, never RIP: but be sure) */
      return;
   case Ist_Dirty: {
      const IRDirty* d = st->Ist.Dirty.details;
      for (i = 0; d->args[i] != NULL; i++)
         if (d->args[i]->tag == Iex_GSPTR) c->rip = 0;   /* (may write anything) */
      for (i = 0; i < d->nFxState; i++) {
         Int off = d->fxState[i].offset;
         Int end = off + d->fxState[i].nRepeats * d->fxState[i].repeatLen
                   + d->fxState[i].size;
         if (d->fxState[i].fx != Ifx_Read && off < hi && end > lo) c->rip = 0;
      }
      return;
   }
   default:
      return;
   }
}

static void call_on_store(Ctx* c, IRExpr* addr, IRExpr* value, IRExpr* guard, Bool fresh)
{
   IRDirty* di;
   if (c->rip == c->ip) {
      di = unsafeIRDirty_0_N(3, "sh_on_store", VG_(fnptr_to_fnentry)(SH_(on_store)),
                             mkIRExprVec_3(addr, value, IRExpr_GSPTR()));
      declare_writes_top_copy(c, di);
      declare_fx(di, Ifx_Read, OFFSET_amd64_RIP, sizeof(Addr));
   } else {
      di = unsafeIRDirty_0_N(3, "sh_on_store_at", VG_(fnptr_to_fnentry)(SH_(on_store_at)),
                             mkIRExprVec_3(addr, value, mk_u64(c->ip)));
      declare_writes_top_copy(c, di);
   }
   di->guard = and1(c, guard, store_guard(c, addr, value, fresh));
   addStmtToIRSB(c->sb, IRStmt_Dirty(di));
}

static Bool never_a_block_address(ULong v);
static Bool in_own_file_mapping(Addr code, ULong v);

/* A 64-bit value v stored at addr (+off), under an optional guard.  A
   constant that cannot be a block address needs no check. */
static void check_word(Ctx* c, IRExpr* addr, Int off, IRExpr* v, IRExpr* guard)
{
   IRExpr* a = addr;
   if (v->tag == Iex_Const && v->Iex.Const.con->tag == Ico_U64
       && (never_a_block_address(v->Iex.Const.con->Ico.U64)
           || in_own_file_mapping(c->ip, v->Iex.Const.con->Ico.U64)))
      return;
   v = atom(c, Ity_I64, v);
   if (off != 0)
      a = IRExpr_RdTmp(assign(c, Ity_I64, IRExpr_Binop(Iop_Add64, addr, mk_u64(off))));
   call_on_store(c, a, v, guard, False);
}

/* A store narrower than a word: when it ends on a word boundary it may
   have completed a pointer written piecewise, so the aligned word it ends
   is checked like a word store.  That word is loaded only when the store
   ends on the boundary (it then holds the byte just written, so it is
   mapped), and the helper runs only when the word passes the same inline
   filters: in a rep movsb every byte is one pass through the superblock,
   and calling a helper at every eighth byte of every copy cost 9% of
   jq's run. */
static void check_completed_word(Ctx* c, IRExpr* addr, Int size, IRExpr* guard)
{
   IRTemp end = assign(c, Ity_I64, IRExpr_Binop(Iop_Add64, addr, mk_u64(size)));
   IRTemp low = assign(c, Ity_I64, IRExpr_Binop(Iop_And64, IRExpr_RdTmp(end), mk_u64(7)));
   IRExpr* ends = and1(c, guard, IRExpr_RdTmp(assign(c, Ity_I1,
                     IRExpr_Binop(Iop_CmpEQ64, IRExpr_RdTmp(low), mk_u64(0)))));
   IRTemp w = assign(c, Ity_I64, IRExpr_Binop(Iop_Sub64, IRExpr_RdTmp(end), mk_u64(8)));
   IRTemp v = newIRTemp(c->sb->tyenv, Ity_I64);
   addStmtToIRSB(c->sb, IRStmt_LoadG(Iend_LE, ILGop_Ident64, v, IRExpr_RdTmp(w),
                                     mk_u64(0), ends));
   call_on_store(c, IRExpr_RdTmp(w), IRExpr_RdTmp(v), ends, True);
}

/* A constant no live block can contain: nothing can be mapped below the
   kernel's vm.mmap_min_addr (read at start-up, at most 64 KiB counted;
   0 when it cannot be read), and no user address is 2^63 or more.
   Stores of such constants (zeroing, flags, small counts) need no check
   at all. */
static ULong min_mappable = 0;

void SH_(instrument_init)(void)
{
   HChar buf[32];
   HChar* end;
   Int n;
   ULong v;
   SysRes sr = VG_(open)("/proc/sys/vm/mmap_min_addr", VKI_O_RDONLY, 0);
   if (sr_isError(sr)) return;
   n = VG_(read)(sr_Res(sr), buf, sizeof buf - 1);
   VG_(close)(sr_Res(sr));
   if (n <= 0) return;
   buf[n] = '\0';
   v = VG_(strtoull10)(buf, &end);
   if (end == buf) return;
   min_mappable = v < 0x10000 ? v : 0x10000;
}

static Bool never_a_block_address(ULong v)
{
   return v < min_mappable || v >= 0x8000000000000000ULL;
}

/* A constant that points into the file mapping whose code stores it:
   in practice the return address every call pushes (42% of jq's 64-bit
   stores, 29% of sqlite's), and addresses of the code's own data where
   it shares the mapping.  No check is needed: malloc'd blocks live in
   anonymous memory (Valgrind's client arena), never in a file mapping;
   this translation exists only while that mapping holds its code
   (unmapping or replacing code discards its translations), so the
   constant keeps pointing into it.  The one way such an address can be
   a block's is a block the program declares there itself
   (VALGRIND_MALLOCLIKE_BLOCK, a memory pool): SH_(declared_block_range)
   then discards every translation once and turns this off for good. */
static Bool file_consts_unchecked = True;

static Bool in_own_file_mapping(Addr code, ULong v)
{
   const NSegment* s;
   if (!file_consts_unchecked) return False;
   s = VG_(am_find_nsegment)((Addr)v);
   return s != NULL && s->kind == SkFileC && code >= s->start && code <= s->end;
}

void SH_(declared_block_range)(Addr a, SizeT len)
{
   Addr p = a, last = len == 0 ? a : a + len - 1;
   if (!file_consts_unchecked || last < a) {
      if (last < a) file_consts_unchecked = False;   /* (wraps: be safe) */
      return;
   }
   while (True) {
      const NSegment* s = VG_(am_find_nsegment)(p);
      if (s == NULL) break;
      if (s->kind == SkFileC) {
         file_consts_unchecked = False;
         VG_(discard_translations_safely)(0, ~(SizeT)0,
                                          "stackheap: block declared over a file mapping");
         return;
      }
      if (s->end >= last || s->end + 1 == 0) break;
      p = s->end + 1;
   }
}

/* Lane k (64 bits) of a vector constant, whose mask has one bit per byte
   (set: 0xFF, clear: 0x00). */
static ULong vector_const_lane(ULong mask, Int k)
{
   ULong v = 0;
   Int i;
   for (i = 0; i < 8; i++)
      if (mask & (1ULL << (8 * k + i))) v |= 0xFFULL << (8 * i);
   return v;
}

/* Checks lane k of a vector store; a constant vector's lane is checked
   as the constant it is (check_word leaves out those that cannot point
   into a block). */
static void check_lane(Ctx* c, IRExpr* addr, IRExpr* data, Int k, IROp op, IRExpr* guard)
{
   if (data->tag == Iex_Const) {
      const IRConst* con = data->Iex.Const.con;
      ULong mask = con->tag == Ico_V128 ? con->Ico.V128 : con->Ico.V256;
      check_word(c, addr, 8 * k, mk_u64(vector_const_lane(mask, k)), guard);
      return;
   }
   check_word(c, addr, 8 * k, IRExpr_Unop(op, data), guard);
}

static void check_store(Ctx* c, IRExpr* addr, IRExpr* data, IRExpr* guard)
{
   IRType ty = typeOfIRExpr(c->sb->tyenv, data);
   switch (ty) {
   case Ity_I64:
      check_word(c, addr, 0, data, guard);
      break;
   case Ity_V128:
      check_lane(c, addr, data, 0, Iop_V128to64, guard);
      check_lane(c, addr, data, 1, Iop_V128HIto64, guard);
      break;
   case Ity_V256:
      check_lane(c, addr, data, 0, Iop_V256to64_0, guard);
      check_lane(c, addr, data, 1, Iop_V256to64_1, guard);
      check_lane(c, addr, data, 2, Iop_V256to64_2, guard);
      check_lane(c, addr, data, 3, Iop_V256to64_3, guard);
      break;
   /* Narrow stores are checked only in string moves (rep movsb is how
      glibc's memcpy copies mid-sized blocks); compiled code copies
      pointers with word or vector stores. */
   case Ity_I8:  if (c->string_move) check_completed_word(c, addr, 1, guard); break;
   case Ity_I16: if (c->string_move) check_completed_word(c, addr, 2, guard); break;
   case Ity_I32: if (c->string_move) check_completed_word(c, addr, 4, guard); break;
   default:
      break;   /* floats and 128-bit integers do not carry pointers here */
   }
}

static void check_cas(Ctx* c, IRCAS* cas)
{
   IRType ty = typeOfIRExpr(c->sb->tyenv, cas->dataLo);
   IRExpr* ok;
   if (ty != Ity_I64) return;
   ok = IRExpr_RdTmp(assign(c, Ity_I1, IRExpr_Binop(Iop_CmpEQ64,
                                IRExpr_RdTmp(cas->oldLo), cas->expdLo)));
   if (cas->dataHi != NULL) {
      IRExpr* okhi = IRExpr_RdTmp(assign(c, Ity_I1, IRExpr_Binop(Iop_CmpEQ64,
                                IRExpr_RdTmp(cas->oldHi), cas->expdHi)));
      ok = and1(c, ok, okhi);
      check_word(c, cas->addr, 8, cas->dataHi, ok);
   }
   check_word(c, cas->addr, 0, cas->dataLo, ok);
}

static void check_dirty_writes(Ctx* c, IRDirty* d)
{
   IRDirty* di;
   if (d->mFx != Ifx_Write && d->mFx != Ifx_Modify) return;
   if (d->mAddr == NULL || d->mSize < 8) return;
   di = unsafeIRDirty_0_N(3, "sh_on_store_region",
                          VG_(fnptr_to_fnentry)(SH_(on_store_region)),
                          mkIRExprVec_3(d->mAddr, mk_u64(d->mSize), mk_u64(c->ip)));
   di->guard = d->guard;
   declare_writes_top_copy(c, di);
   addStmtToIRSB(c->sb, IRStmt_Dirty(di));
}

/* movsb/movsw/movsd/movsq, with any prefixes (rep, operand size, REX). */
static void add_instr_count(Ctx* c, ULong n);

static Bool is_string_move(Addr a)
{
   const UChar* p = (const UChar*)a;
   Int i;
   for (i = 0; i < 14; i++, p++) {
      UChar b = *p;
      if (b == 0x66 || b == 0x67 || b == 0xF2 || b == 0xF3 || b == 0x2E || b == 0x3E
          || b == 0x26 || b == 0x36 || b == 0x64 || b == 0x65 || (b >= 0x40 && b <= 0x4F))
         continue;
      return b == 0xA4 || b == 0xA5;
   }
   return False;
}

/* The element size of a forward-capable `rep movs` at a (F3 prefix, with
   only 66 and a final REX besides: no address-size or segment override),
   0 for anything else. */
static UWord rep_movs_size(Addr a)
{
   const UChar* p = (const UChar*)a;
   Bool rep = False, opsize = False, rexw = False;
   Int i;
   for (i = 0; i < 14; i++, p++) {
      UChar b = *p;
      if (b == 0xF3) { rep = True; continue; }
      if (b == 0x66) { opsize = True; continue; }
      if (b >= 0x40 && b <= 0x4F) {
         rexw = (b & 8) != 0;
         p++;
         break;
      }
      break;
   }
   if (!rep) return 0;
   if (*p == 0xA4) return 1;
   if (*p != 0xA5) return 0;
   return rexw ? 8 : opsize ? 2 : 4;
}

/* A superblock that starts with a `rep movs` (the one VEX loops through,
   a pass per element) first offers the rest of the copy to
   SH_(rep_movs) (sh_strmove.c says why that is the same); when it did
   it, the superblock goes on to the next instruction.  This pass's
   instruction is counted before that exit. */
static void add_rep_movs_batch(Ctx* c, const VexGuestLayout* layout, Addr ip, UInt len,
                               UWord size, ULong* counted, ULong seen)
{
   IRTemp handled = newIRTemp(c->sb->tyenv, Ity_I64);
   IRDirty* di = unsafeIRDirty_1_N(handled, 3, "sh_rep_movs",
                                   VG_(fnptr_to_fnentry)(SH_(rep_movs)),
                                   mkIRExprVec_3(IRExpr_GSPTR(), mk_u64(ip), mk_u64(size)));
   declare_fx(di, Ifx_Modify, OFFSET_amd64_RSI, 8);
   declare_fx(di, Ifx_Modify, OFFSET_amd64_RDI, 8);
   declare_fx(di, Ifx_Modify, OFFSET_amd64_RCX, 8);
   declare_fx(di, Ifx_Read, offsetof(VexGuestAMD64State, guest_DFLAG), 8);
   declare_fx(di, Ifx_Read, layout->offset_SP, 8);   /* (for the store helper) */
   declare_fx(di, Ifx_Read, layout->offset_IP, 8);   /* (for good measure) */
   declare_modifies_tool_shadow(layout, di);
   /* It reads and writes the copy's ranges; one region can be declared. */
   di->mFx = Ifx_Modify;
   di->mAddr = IRExpr_RdTmp(assign(c, Ity_I64, IRExpr_Get(OFFSET_amd64_RDI, Ity_I64)));
   di->mSize = 8;
   add_instr_count(c, seen - *counted);
   *counted = seen;
   add_offer(c, layout, di, handled, IRConst_U64(ip + len));
}

/* The guest-instruction counter (the time base) is counted in the
   running thread's shadow guest state, not in SH_(instrs): an update is
   then a load, an add and a store relative to the guest-state register,
   where a global needs its 64-bit address materialised twice (5% fewer
   samples in jq's generated code).  The thread's count is folded into
   SH_(instrs) whenever it stops running generated code (the core's
   stop_client_code event, sh_main.c), which it does before every client
   request (allocations, frees), every system call, every signal delivery
   and at its exit, which are the only places the tool reads the time: so
   SH_(instrs) has exactly the value it had when the counter was a global.
   (Signal frames save and restore the shadow state; at both points the
   count has just been folded, so it is 0 and nothing is lost or doubled;
   a cloned thread copies its parent's, 0 for the same reason.) */
STATIC_ASSERT(SH_COUNTER_SHADOW_OFF == OFFSET_amd64_RAX);   /* (sh_global.h) */

static void add_instr_count(Ctx* c, ULong n)
{
   IRTemp old, sum;
   if (n == 0) return;
   old = assign(c, Ity_I64, IRExpr_Get(c->counter_off, Ity_I64));
   sum = assign(c, Ity_I64, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(old), mk_u64(n)));
   addStmtToIRSB(c->sb, IRStmt_Put(c->counter_off, IRExpr_RdTmp(sum)));
}

void SH_(fold_instr_count)(ThreadId tid)
{
   ULong n;
   VG_(get_shadow_regs_area)(tid, (UChar*)&n, 1, SH_COUNTER_SHADOW_OFF, sizeof n);
   if (n == 0) return;
   SH_(instrs) += n;
   n = 0;
   VG_(set_shadow_regs_area)(tid, 1, SH_COUNTER_SHADOW_OFF, sizeof n, (const UChar*)&n);
}

/* Every thread but the running one has had its count folded: the core
   stops a thread's generated code before anything else runs. */
Bool SH_(instr_counts_sane)(void)
{
   ThreadId t, running = VG_(get_running_tid)();
   ULong n;
   for (t = 1; t <= SH_(max_tid)(); t++) {
      if (t == running || !SH_(thread_alive)(t)) continue;
      VG_(get_shadow_regs_area)(t, (UChar*)&n, 1, SH_COUNTER_SHADOW_OFF, sizeof n);
      SH_SANE(n == 0, "thread %u has %llu instructions not counted\n", t, n);
   }
   return True;
}

/* The store filter's bounds, the heap's (SH_(heap_lo), heap_span) and
   the innermost frame's range (sh_frames.c), are kept for generated code
   in the shadow guest state (an ShFilterCopy at SH_FILTER_COPY_OFF in
   shadow area 1, next to the counter; nothing else uses that area),
   where it reads them relative to the guest-state register.  The copy
   kept right is that of the thread SH_(cur_ts) names:
     - the core runs a thread's generated code only after the
       start_client_code event, where SH_(thread_runs) makes it cur_ts and
       rewrites its whole copy (rewrite_filter_copy: the copies of threads
       not running go stale, and are rewritten before they run again);
     - every change writes the copy: widen_bounds the heap bounds,
       refresh_top_filter the frame range (after any push or pop outside
       on_call's common case), on_call's common case through the
       guest-state pointer its call passes (and tells where the copy is,
       ThreadState.filter_copy, so that refreshes write it directly);
     - a signal handler's return restores the shadow state saved when it
       was delivered, and the core then reports the return
       (post_deliver_signal): signal_returned rewrites the whole copy; a
       delivery keeps it, and its new frame refreshes.
   --sanity-level=2 and up checks cur_ts's copy against the heap bounds
   and the frame range computed afresh. */
STATIC_ASSERT(SH_FILTER_COPY_OFF >= SH_COUNTER_SHADOW_OFF + 8);
STATIC_ASSERT(SH_FILTER_COPY_OFF % 8 == 0);

static ThreadId copy_owner(void)
{
   const ThreadState* ts = SH_(cur_ts);
   return ts != NULL && ts->live ? ts->tid : VG_INVALID_THREADID;
}

/* (Directly once on_call has told where the copy is: thread_runs writes
   it at every client request, allocations included.) */
void SH_(filter_copy_set)(Addr top_lo, Addr top_span)
{
   ShFilterCopy fc;
   ThreadId tid = copy_owner();
   if (tid == VG_INVALID_THREADID) return;
   if (LIKELY(SH_(cur_ts)->filter_copy != NULL)) {
      volatile ShFilterCopy* d = SH_(cur_ts)->filter_copy;
      d->heap_lo = SH_(heap_lo);
      d->heap_span = SH_(heap_span);
      d->top_lo = top_lo;
      d->top_span = top_span;
      return;
   }
   fc.heap_lo = SH_(heap_lo);
   fc.heap_span = SH_(heap_span);
   fc.top_lo = top_lo;
   fc.top_span = top_span;
   VG_(set_shadow_regs_area)(tid, 1, SH_FILTER_COPY_OFF, sizeof fc, (const UChar*)&fc);
}

void SH_(filter_copy_heap_changed)(void)
{
   Addr heap[2];   /* heap_lo, heap_span: adjacent in ShFilterCopy */
   ThreadId tid = copy_owner();
   if (tid == VG_INVALID_THREADID) return;
   heap[0] = SH_(heap_lo);
   heap[1] = SH_(heap_span);
   VG_(set_shadow_regs_area)(tid, 1, SH_FILTER_COPY_OFF + offsetof(ShFilterCopy, heap_lo),
                             sizeof heap, (const UChar*)heap);
}

Bool SH_(filter_copy_sane)(void)
{
   ShFilterCopy fc;
   volatile const ShFilterCopy* d;
   Addr lo, span;
   ThreadId tid = copy_owner();
   if (tid == VG_INVALID_THREADID) return True;
   VG_(get_shadow_regs_area)(tid, (UChar*)&fc, 1, SH_FILTER_COPY_OFF, sizeof fc);
   d = SH_(cur_ts)->filter_copy;
   SH_SANE(d == NULL || (d->heap_lo == fc.heap_lo && d->heap_span == fc.heap_span
                         && d->top_lo == fc.top_lo && d->top_span == fc.top_span),
           "thread %u's filter copy is not where on_call said\n", tid);
   SH_(top_filter_range)(SH_(cur_ts), &lo, &span);
   SH_SANE(fc.heap_lo == SH_(heap_lo) && fc.heap_span == SH_(heap_span)
           && fc.top_lo == lo && fc.top_span == span,
           "thread %u's copy of the store filter (heap %#lx+%#lx, frame %#lx+%#lx) "
           "is not heap %#lx+%#lx, frame %#lx+%#lx\n", tid,
           fc.heap_lo, fc.heap_span, fc.top_lo, fc.top_span,
           SH_(heap_lo), SH_(heap_span), lo, span);
   return True;
}

static Bool is_root_entry(Addr a)
{
   const HChar* name;
   if (SH_(is_root_fn)(a)) return True;
   return VG_(get_fnname_if_entry)(VG_(current_DiEpoch)(), a, &name)
          && VG_(strcmp)(name, "main") == 0;
}

/* glibc's __libc_start_main(main, argc, argv, ...) is exported even from
   stripped programs, and its first argument is main: this finds main in
   programs that have no symbol for it. */
static Bool is_libc_start_main(Addr a)
{
   const HChar* name;
   return VG_(get_fnname_if_entry)(VG_(current_DiEpoch)(), a, &name)
          && VG_(strncmp)(name, "__libc_start_main", 17) == 0
          && (name[17] == '\0' || name[17] == '@');
}

static void add_call_event(Ctx* c, const VexGuestLayout* layout, IRJumpKind jk,
                           IRExpr* next)
{
   IRTemp sp;
   IRDirty* di;
   if (jk != Ijk_Call) return;
   sp = assign(c, Ity_I64, IRExpr_Get(layout->offset_SP, Ity_I64));
   di = unsafeIRDirty_0_N(3, "sh_on_call", VG_(fnptr_to_fnentry)(SH_(on_call)),
                          mkIRExprVec_3(IRExpr_RdTmp(sp), next, IRExpr_GSPTR()));
   declare_writes_top_copy(c, di);   /* (through the pointer) */
   addStmtToIRSB(c->sb, IRStmt_Dirty(di));
}

/* A superblock ending in a client request first offers it to
   SH_(fast_client_call) (sh_clientreq.c, which says why this is the same
   as the scheduler's round trip); when that handled it, the superblock
   goes on to the next instruction instead of exiting to the scheduler.
   RIP is set to that instruction first, as the exit would (the unwinder
   starts from it). */
static void add_fast_request(Ctx* c, const VexGuestLayout* layout, IRExpr* next)
{
   IRTemp handled, rax;
   IRDirty* di;
   if (next->tag != Iex_Const || next->Iex.Const.con->tag != Ico_U64) return;
   addStmtToIRSB(c->sb, IRStmt_Put(layout->offset_IP, next));
   rax = assign(c, Ity_I64, IRExpr_Get(OFFSET_amd64_RAX, Ity_I64));
   handled = newIRTemp(c->sb->tyenv, Ity_I64);
   di = unsafeIRDirty_1_N(handled, 1, "sh_fast_client_call",
                          VG_(fnptr_to_fnentry)(SH_(fast_client_call)),
                          mkIRExprVec_1(IRExpr_RdTmp(rax)));
   declare_fx(di, Ifx_Read, layout->offset_IP, 8);
   declare_fx(di, Ifx_Read, layout->offset_SP, 8);
   declare_fx(di, Ifx_Read, OFFSET_amd64_RBP, 8);
   declare_fx(di, Ifx_Modify, OFFSET_amd64_RDX, 8);
   declare_modifies_tool_shadow(layout, di);
   /* It reads the request block; the allocator's own writes (calloc,
      realloc) need no declaration: nothing after it here reads memory. */
   di->mFx = Ifx_Read;
   di->mAddr = IRExpr_RdTmp(rax);
   di->mSize = 6 * sizeof(UWord);
   add_offer(c, layout, di, handled, next->Iex.Const.con);
}

/* The tool's own preload (malloc replacements, pthread_create wrapper)
   passes pointers in client-request blocks on the stack: bookkeeping, not
   the program's stores. */
static Bool in_tool_preload(Addr a)
{
   const HChar* obj;
   return VG_(get_objname)(VG_(current_DiEpoch)(), a, &obj)
          && VG_(strstr)(obj, "vgpreload_stackheap") != NULL;
}

IRSB* SH_(instrument)(VgCallbackClosure* closure, IRSB* sbIn,
                      const VexGuestLayout* layout, const VexGuestExtents* vge,
                      const VexArchInfo* archinfo_host, IRType gWordTy, IRType hWordTy)
{
   Ctx c;
   Int i;
   ULong seen = 0, counted = 0;
   Bool first_mark = True;
   Bool watch_stores = !in_tool_preload(vge->base[0]);

   tl_assert(gWordTy == Ity_I64);
   c.sb = deepCopyIRSBExceptStmts(sbIn);
   tl_assert(layout->total_sizeB == sizeof(VexGuestAMD64State));   /* (on_call's gs) */
   c.counter_off = layout->total_sizeB + SH_COUNTER_SHADOW_OFF;
   c.copy_off = layout->total_sizeB + SH_FILTER_COPY_OFF;
   c.top_lo = c.top_span = NULL;
   c.ip = 0;
   c.string_move = False;
   c.rip = closure->nraddr;

   /* The preamble (self-checks) stays untouched, before everything. */
   for (i = 0; i < sbIn->stmts_used && sbIn->stmts[i]->tag != Ist_IMark; i++) {
      track_rip(&c, sbIn->stmts[i]);
      addStmtToIRSB(c.sb, sbIn->stmts[i]);
   }

   for (; i < sbIn->stmts_used; i++) {
      IRStmt* st = sbIn->stmts[i];
      if (st == NULL) continue;
      track_rip(&c, st);
      switch (st->tag) {
      case Ist_IMark:
         c.ip = st->Ist.IMark.addr;
         c.string_move = is_string_move(c.ip);
         seen++;
         addStmtToIRSB(c.sb, st);
         if (first_mark) {
            UWord rep_size;
            first_mark = False;
            if (watch_stores && SH_(clo_batch_rep_movs)
                && (rep_size = rep_movs_size(c.ip)) != 0)
               add_rep_movs_batch(&c, layout, c.ip, st->Ist.IMark.len, rep_size,
                                  &counted, seen);
            if (is_root_entry(c.ip)) {
               IRDirty* di = unsafeIRDirty_0_N(1, "sh_on_root_entry",
                                VG_(fnptr_to_fnentry)(SH_(on_root_entry)),
                                mkIRExprVec_1(mk_u64(c.ip)));
               addStmtToIRSB(c.sb, IRStmt_Dirty(di));
            } else if (is_libc_start_main(c.ip)) {
               IRTemp rdi = assign(&c, Ity_I64, IRExpr_Get(OFFSET_amd64_RDI, Ity_I64));
               IRDirty* di = unsafeIRDirty_0_N(1, "sh_on_libc_start_main",
                                VG_(fnptr_to_fnentry)(SH_(on_libc_start_main)),
                                mkIRExprVec_1(IRExpr_RdTmp(rdi)));
               addStmtToIRSB(c.sb, IRStmt_Dirty(di));
            }
         }
         break;
      case Ist_Exit:
         add_instr_count(&c, seen - counted);
         counted = seen;
         addStmtToIRSB(c.sb, st);
         break;
      case Ist_Store:
         addStmtToIRSB(c.sb, st);
         if (watch_stores) check_store(&c, st->Ist.Store.addr, st->Ist.Store.data, NULL);
         break;
      case Ist_StoreG: {
         IRStoreG* sg = st->Ist.StoreG.details;
         addStmtToIRSB(c.sb, st);
         if (watch_stores) check_store(&c, sg->addr, sg->data, sg->guard);
         break;
      }
      case Ist_CAS:
         addStmtToIRSB(c.sb, st);
         if (watch_stores) check_cas(&c, st->Ist.CAS.details);
         break;
      case Ist_LLSC:
         addStmtToIRSB(c.sb, st);
         if (watch_stores && st->Ist.LLSC.storedata != NULL
             && typeOfIRExpr(c.sb->tyenv, st->Ist.LLSC.storedata) == Ity_I64)
            check_word(&c, st->Ist.LLSC.addr, 0, st->Ist.LLSC.storedata,
                       IRExpr_RdTmp(st->Ist.LLSC.result));
         break;
      case Ist_Dirty:
         addStmtToIRSB(c.sb, st);
         if (watch_stores) check_dirty_writes(&c, st->Ist.Dirty.details);
         break;
      default:
         addStmtToIRSB(c.sb, st);
         break;
      }
   }
   add_instr_count(&c, seen - counted);
   add_call_event(&c, layout, sbIn->jumpkind, sbIn->next);
   if (sbIn->jumpkind == Ijk_ClientReq && SH_(clo_fast_requests))
      add_fast_request(&c, layout, sbIn->next);
   return c.sb;
}
