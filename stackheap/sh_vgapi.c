/*--------------------------------------------------------------------*/
/*--- stackheap: adapters to the Valgrind release at hand.         ---*/
/*--- sh_vgapi.c                                                    ---*/
/*--------------------------------------------------------------------*/

/* stackheap is free software; GPL-2.0-or-later.  See COPYING. */

/* sh_alloc.c keeps the 3.19 callback signatures.  Valgrind 3.22 added,
   after the (rounded) alignment, the alignment the program asked for to
   the aligned new/new[] and memalign callbacks.  The core has already
   checked and rounded it, and the block lives at the rounded alignment,
   so the adapters drop it.  The same release changed VG_(am_shadow_alloc)
   (a SysRes instead of a pointer) and VG_(out_of_memory_NORETURN) (an
   errno argument). */

#include "pub_tool_basics.h"
#include "pub_tool_aspacemgr.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_tooliface.h"
#include "sh_global.h"
#include "sh_vgapi.h"

#if SH_VG_ALIGNED_ORIG_ALIGN
static void* cb_new_aligned(ThreadId tid, SizeT n, SizeT align, SizeT orig_align)
{ return SH_(builtin_new_aligned)(tid, n, align); }
static void* cb_vec_new_aligned(ThreadId tid, SizeT n, SizeT align, SizeT orig_align)
{ return SH_(builtin_vec_new_aligned)(tid, n, align); }
static void* cb_memalign(ThreadId tid, SizeT align, SizeT orig_align, SizeT n)
{ return SH_(memalign)(tid, align, n); }
#else
#  define cb_new_aligned     SH_(builtin_new_aligned)
#  define cb_vec_new_aligned SH_(builtin_vec_new_aligned)
#  define cb_memalign        SH_(memalign)
#endif

/* The callbacks the preload's replacements call through client requests
   (VG_USERREQ__CLIENT_CALLn with the function's address). */
static const Addr malloc_callbacks[] = {
   (Addr)SH_(malloc), (Addr)SH_(free), (Addr)SH_(builtin_new), (Addr)SH_(builtin_delete),
   (Addr)SH_(realloc), (Addr)SH_(calloc), (Addr)SH_(builtin_vec_new),
   (Addr)SH_(builtin_vec_delete), (Addr)cb_memalign, (Addr)cb_new_aligned,
   (Addr)cb_vec_new_aligned, (Addr)SH_(builtin_delete_aligned),
   (Addr)SH_(builtin_vec_delete_aligned), (Addr)SH_(malloc_usable_size)
};

Bool SH_(is_malloc_callback)(Addr f)
{
   UInt i;
   for (i = 0; i < sizeof malloc_callbacks / sizeof malloc_callbacks[0]; i++)
      if (malloc_callbacks[i] == f) return True;
   return False;
}

void SH_(needs_malloc_replacement)(void)
{
   VG_(needs_malloc_replacement)(SH_(malloc), SH_(builtin_new), cb_new_aligned,
                                 SH_(builtin_vec_new), cb_vec_new_aligned,
                                 cb_memalign, SH_(calloc), SH_(free),
                                 SH_(builtin_delete), SH_(builtin_delete_aligned),
                                 SH_(builtin_vec_delete),
                                 SH_(builtin_vec_delete_aligned), SH_(realloc),
                                 SH_(malloc_usable_size), 0);
}

#if SH_VG_OOM_ERRNO
#  define OUT_OF_MEMORY(what, n, err) VG_(out_of_memory_NORETURN)(what, n, err)
#else
#  define OUT_OF_MEMORY(what, n, err) VG_(out_of_memory_NORETURN)(what, n)
#endif

void* SH_(shadow_alloc)(SizeT n, const HChar* what)
{
#if SH_VG_SHADOW_ALLOC_SYSRES
   SysRes r = VG_(am_shadow_alloc)(n);
   if (sr_isError(r)) OUT_OF_MEMORY(what, n, sr_Err(r));
   return (void*)sr_Res(r);
#else
   void* p = VG_(am_shadow_alloc)(n);
   if (p == NULL) OUT_OF_MEMORY(what, n, 0);
   return p;
#endif
}
