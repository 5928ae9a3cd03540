// C++ allocation entry points, each from its own function (its own site,
// stack[0] = the do_* function).  The program checks alignment itself and
// prints "FAIL <what>" (exit 1) on error, "all ok" otherwise.
// Compiled with -std=c++17 (aligned new; sized delete is on by default).
// Expected sites (blocks, bytes):
//   do_new            1, 4     (new int; delete)
//   do_new_array      1, 40    (new int[10]; delete[]: no array cookie for int)
//   do_new_obj_array  1, 3*8+8 = 32 (new Obj[3], Obj has a destructor: 8-byte cookie)
//   do_sized_delete   1, 24    (new Big24; sized ::operator delete(p, 24))
//   do_aligned_new    1, 64    (new Al64, alignas(64): operator new(size, align_val_t))
//   do_aligned_new_array 1, 128 (new Al64[2]: aligned new[])
//   do_nothrow_new    1, 20    (new (std::nothrow) int[5])
//   do_nothrow_new_fail none   (new (std::nothrow) char[SIZE_MAX/2] returns nullptr)
// Totals: 7 blocks, 4+40+32+24+64+128+20 = 312 bytes, all freed, class frame.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <unistd.h>

static int failures;
#define CHECK(cond, what) do { if (!(cond)) { failures++; \
    if (write(1, "FAIL " what "\n", sizeof("FAIL " what "\n") - 1) < 0) {} } } while (0)

__attribute__((noinline)) static int use(const void *p, size_t n)
{
    const volatile unsigned char *c = static_cast<const unsigned char *>(p);
    int s = 0;
    for (size_t i = 0; i < n; i++) s += c[i];
    return s;
}

struct Obj {
    long v;
    Obj() : v(7) {}
    ~Obj() { use(&v, sizeof v); }
};

struct Big24 { long a, b, c; };

struct alignas(64) Al64 { char c[64]; };

__attribute__((noinline)) static void do_new()
{
    int *p = new int(5);
    use(p, sizeof *p);
    delete p;
}

__attribute__((noinline)) static void do_new_array()
{
    int *p = new int[10];
    memset(p, 1, 10 * sizeof(int));
    use(p, 10 * sizeof(int));
    delete[] p;
}

__attribute__((noinline)) static void do_new_obj_array()
{
    Obj *p = new Obj[3];
    use(p, 3 * sizeof(Obj));
    delete[] p;
}

__attribute__((noinline)) static void do_sized_delete()
{
    void *raw = ::operator new(sizeof(Big24));
    Big24 *p = new (raw) Big24{1, 2, 3};
    use(p, sizeof *p);
    ::operator delete(raw, sizeof(Big24));
}

__attribute__((noinline)) static void do_aligned_new()
{
    Al64 *p = new Al64;
    CHECK((reinterpret_cast<uintptr_t>(p) % 64) == 0, "aligned new alignment");
    memset(p->c, 2, sizeof p->c);
    use(p, sizeof *p);
    delete p;
}

__attribute__((noinline)) static void do_aligned_new_array()
{
    Al64 *p = new Al64[2];
    CHECK((reinterpret_cast<uintptr_t>(p) % 64) == 0, "aligned new[] alignment");
    memset(p, 3, 2 * sizeof(Al64));
    use(p, 2 * sizeof(Al64));
    delete[] p;
}

__attribute__((noinline)) static void do_nothrow_new()
{
    int *p = new (std::nothrow) int[5];
    CHECK(p != nullptr, "nothrow new");
    memset(p, 4, 5 * sizeof(int));
    use(p, 5 * sizeof(int));
    delete[] p;
}

__attribute__((noinline)) static void do_nothrow_new_fail()
{
    volatile size_t huge = SIZE_MAX / 2;
    char *p = new (std::nothrow) char[huge];
    CHECK(p == nullptr, "huge nothrow new fails");
    delete[] p;
}

int main()
{
    do_new();
    do_new_array();
    do_new_obj_array();
    do_sized_delete();
    do_aligned_new();
    do_aligned_new_array();
    do_nothrow_new();
    do_nothrow_new_fail();
    if (!failures && write(1, "all ok\n", 7) < 0) return 2;
    return failures ? 1 : 0;
}
