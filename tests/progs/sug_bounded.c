/* bounded_local_buffer: format_line() mallocs a buffer whose size varies,
 * fills it and frees it before returning.
 *   mode "max" (default): 400 calls, sizes 16 + (i % 85) = 16..100 bytes.
 *   mode "p95": 1000 calls; 990 of sizes 16..100 and 10 (every 100th) of
 *               3000 bytes.
 *   mode "const": 400 calls of 64 bytes (the near miss: one size, so
 *               use_stack_allocation and no bounded_local_buffer). */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int checksum(const char *p, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i += 8) s += p[i];
    return s;
}

__attribute__((noinline)) static int format_line(size_t n)
{
    char *buf = malloc(n); /* MARK:alloc */
    memset(buf, 'x', n);
    int s = checksum(buf, n);
    free(buf);
    return s;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "max";
    volatile int sink = 0;
    if (strcmp(mode, "p95") == 0) {
        for (int i = 0; i < 1000; i++)
            sink += format_line(i % 100 == 99 ? 3000 : 16 + (i % 85));
    } else if (strcmp(mode, "const") == 0) {
        for (int i = 0; i < 400; i++)
            sink += format_line(64);
    } else {
        for (int i = 0; i < 400; i++)
            sink += format_line(16 + (i % 85));
    }
    return 0;
}
