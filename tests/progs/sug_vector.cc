// reserve_capacity (allocate-copy-free): fill() push_backs 1000 ints into a
// std::vector<int> without reserve().  libstdc++ doubles the capacity:
// 1, 2, 4, ..., 1024 elements = 11 blocks of 4..4096 bytes, 10 growth steps
// each allocating the larger block, copying and freeing the smaller.
// Expected: reserve_capacity with saved_calls 20 (2 per step), saved_bytes
// 4+8+...+2048 = 4,092, text "grew 10 times, from 4 to 4,096 bytes".
#include <cstdlib>
#include <vector>

__attribute__((noinline)) static long fill(int n)
{
    std::vector<int> v;
    for (int i = 0; i < n; i++)
        v.push_back(i); // MARK:push
    long s = 0;
    for (int x : v) s += x;
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 1000;
    volatile long sink = fill(n);
    (void)sink;
    return 0;
}
