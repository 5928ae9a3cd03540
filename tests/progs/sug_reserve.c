/* reserve_capacity (realloc): grow_buffer(k) mallocs 16 bytes and doubles
 * it k times with realloc, then frees it.  argv[1] = k (default 10):
 * 10 growths from 16 to 16,384 bytes -> reserve_capacity with saved_calls
 * 10 (one realloc call each), saved_bytes 16+32+...+8192 = 16,368.
 * k = 2 is the near miss (too few growths). */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int grow_buffer(int k)
{
    size_t n = 16;
    char *buf = malloc(n); /* MARK:alloc */
    memset(buf, 1, n);
    for (int i = 0; i < k; i++) {
        n *= 2;
        buf = realloc(buf, n); /* MARK:realloc */
        memset(buf, 1, n);
    }
    int s = buf[n - 1];
    free(buf);
    return s;
}

int main(int argc, char **argv)
{
    int k = argc > 1 ? atoi(argv[1]) : 10;
    volatile int sink = grow_buffer(k);
    (void)sink;
    return 0;
}
