/*--------------------------------------------------------------------*/
/*--- stackheap: adapters to the Valgrind release at hand.         ---*/
/*--- sh_vgapi.c                                                    ---*/
/*--------------------------------------------------------------------*/

/* stackheap is free software; GPL-2.0-or-later.  See COPYING. */

/* sh_alloc.c keeps the 3.19 callback signatures.  Valgrind 3.22 added,
   after the (rounded) alignment, the alignment the program asked for to
   the aligned new/new[] and memalign callbacks.  The core has already
   checked and rounded it, and the block lives at the rounded alignment,
   so the adapters drop it. */

#include "pub_tool_basics.h"
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
