// A C++ exception thrown through a frame holding a unique_ptr: the block
// is freed during unwinding, in that frame: frame, home = that function.
#include <memory>
#include <stdexcept>
#include "cls_common.h"

struct Obj { char buf[40]; };

NOINLINE static void thrower(int n)
{
   if (n >= 0) throw std::runtime_error("boom");
}

NOINLINE static void holder(int n)
{
   std::unique_ptr<Obj> o(new Obj); /* ALLOC-HERE */
   fill(o.get(), sizeof(Obj));
   use(o.get());
   thrower(n);
   use(o.get());
}

NOINLINE static void reset_and_throw(std::unique_ptr<Obj>& slot, int n)
{
   slot.reset(new Obj); /* ALLOC-RESET */
   fill(slot.get(), sizeof(Obj));
   thrower(n);
}

// The callee's block lives in catcher's unique_ptr: caller, depth 1.
NOINLINE static void catcher(int n)
{
   std::unique_ptr<Obj> slot;
   try {
      reset_and_throw(slot, n);
   } catch (const std::exception&) {
      use(slot.get());
   }
}

int main()
{
   for (int i = 0; i < 3; i++) {
      try {
         holder(i);
      } catch (const std::exception&) {
         cls_sink++;
      }
   }
   for (int i = 0; i < cls_two; i++) catcher(i);
   return 0;
}
