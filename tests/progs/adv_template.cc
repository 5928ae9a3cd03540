// One line, two template instantiations (two functions): one source line to
// edit.  Expected: one use_stack_allocation for the line covering both.
#include <cstdlib>

static volatile long sink;

template <typename T>
__attribute__((noipa)) static long scratch(int n)
{
    T* p = new T[16]; // MARK:alloc
    for (int i = 0; i < 16; i++) p[i] = static_cast<T>(n + i);
    long s = 0;
    for (int i = 0; i < 16; i++) s += static_cast<long>(p[i]);
    delete[] p;
    return s;
}

int main()
{
    for (int i = 0; i < 20; i++) sink += scratch<int>(i) + scratch<double>(i);
    return 0;
}
