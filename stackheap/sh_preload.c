/*--------------------------------------------------------------------*/
/*--- stackheap: code preloaded into the program.     sh_preload.c ---*/
/*--------------------------------------------------------------------*/

/* Linked into vgpreload_stackheap-amd64-linux.so beside the core's malloc
   replacements.  It wraps pthread_create so the tool learns each thread's
   start routine (frames above it are never homes) and the argument handed
   over (a hand-off to the new thread, not an escape to a global), with
   the program's call site (its return address: unwinding out of the
   wrapper is not always possible).  Frames of this file never appear in
   reported stacks (sh_sites.c). */

#include "pub_tool_basics.h"
#include "pub_tool_redir.h"
#include "valgrind.h"
#include "stackheap.h"

typedef void* (*sh_start_fn)(void*);

#define SH_WRAP_PTHREAD_CREATE(soname)                                        \
   int I_WRAP_SONAME_FNNAME_ZZ(soname, pthreadZucreateZAZa)                  \
          (void* thread, void* attr, sh_start_fn fn, void* arg);             \
   int I_WRAP_SONAME_FNNAME_ZZ(soname, pthreadZucreateZAZa)                  \
          (void* thread, void* attr, sh_start_fn fn, void* arg)              \
   {                                                                          \
      OrigFn orig;                                                            \
      int ret;                                                                \
      VALGRIND_GET_ORIG_FN(orig);                                             \
      VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__THREAD_HANDOFF,            \
                                      fn, arg, __builtin_return_address(0),  \
                                      0, 0);                                  \
      CALL_FN_W_WWWW(ret, orig, thread, attr, fn, arg);                       \
      VALGRIND_DO_CLIENT_REQUEST_STMT(SH_USERREQ__THREAD_HANDOFF_DONE,       \
                                      0, 0, 0, 0, 0);                         \
      return ret;                                                             \
   }

/* glibc >= 2.34 has it in libc; older ones in libpthread. */
SH_WRAP_PTHREAD_CREATE(VG_Z_LIBC_SONAME)
SH_WRAP_PTHREAD_CREATE(libpthreadZdsoZd0)

/* pvalloc: the core's replacement aborts the program ("Program aborting
   because of call to pvalloc").  This one, at a higher priority in the
   same equivalence class, does what glibc does: memalign to a page of the
   size rounded up to whole pages (one page for 0), NULL with ENOMEM when
   the rounding overflows. */
extern void* memalign(SizeT align, SizeT n);
extern int getpagesize(void);
extern int* __errno_location(void);

void* VG_REPLACE_FUNCTION_EZU(10191, VG_Z_LIBC_SONAME, pvalloc)(SizeT n);
void* VG_REPLACE_FUNCTION_EZU(10191, VG_Z_LIBC_SONAME, pvalloc)(SizeT n)
{
   SizeT page = (SizeT)getpagesize();
   SizeT rounded = (n + page - 1) & ~(page - 1);
   if (n == 0) rounded = page;
   if (rounded < n) {
      *__errno_location() = 12;   /* ENOMEM */
      return 0;
   }
   return memalign(page, rounded);
}
