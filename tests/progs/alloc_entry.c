/* Every C allocation entry point, each from its own function so that each
 * gets its own site (stack[0] = the do_* function).  The program checks the
 * allocator's behaviour itself and prints "FAIL <what>" (exit status 1) if
 * something is wrong, "all ok" otherwise.  Expected sites (blocks, bytes):
 *   do_malloc          1, 40
 *   do_calloc          1, 80   (calloc(10, 8), zeroed)
 *   do_calloc_overflow none    (calloc(SIZE_MAX/2+1, 2) returns NULL, no block)
 *   do_realloc_null    1, 32   (realloc(NULL, 32) is malloc(32); reallocs 0)
 *   do_realloc_zero    1, 16   (realloc(p, 0) frees p; the block is freed, not leaked)
 *   do_realloc_shrink  1, 100  (100 -> 50: same address, contents kept; reallocs 1)
 *   do_realloc_grow    1, 4000 (16 -> 4000: contents kept; reallocs 1; max_size 4000;
 *                               the tool moves the block: prints "grow moved")
 *   do_realloc_steps   1, 30   (10 -> 20 -> 30 -> 5; reallocs 3; max_size 30)
 *   do_realloc_fail    1, 64   (realloc(p, SIZE_MAX-4096) returns NULL, p intact; reallocs 0)
 *   do_free_null       none    (free(NULL) is harmless, no warning)
 *   do_memalign        1, 100  (memalign(64, 100), 64-aligned)
 *   do_posix_memalign  1, 200  (posix_memalign(&p, 128, 200), 128-aligned)
 *   do_aligned_alloc   1, 64   (aligned_alloc(32, 64), 32-aligned)
 *   do_valloc          1, 300  (valloc(300), page-aligned)
 *   do_usable_size     1, 13   (prints "usable 13" under the tool)
* Totals: 13 blocks, 40+80+32+16+100+4000+30+64+100+200+64+300+13 = 5039 bytes,
 * all freed (never_freed 0), bad_frees 0.  No stdio before the end (the
 * stdout buffer is allocated by printf; we write() instead). */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static char msg[4096];
static size_t msg_len;

static void say(const char *s)
{
    size_t n = strlen(s);
    memcpy(msg + msg_len, s, n);
    msg_len += n;
}

#define CHECK(cond, what) do { if (!(cond)) { failures++; say("FAIL " what "\n"); } } while (0)

__attribute__((noinline)) static int use(const void *p, size_t n)
{
    const volatile unsigned char *c = p;
    int s = 0;
    for (size_t i = 0; i < n; i++) s += c[i];
    return s;
}

static void fill(void *p, size_t n, int v) { memset(p, v, n); }

static int all_equal(const void *p, size_t n, int v)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)v) return 0;
    return 1;
}

__attribute__((noinline)) static void do_malloc(void)
{
    char *p = malloc(40);
    CHECK(p != NULL, "malloc");
    fill(p, 40, 1);
    use(p, 40);
    free(p);
}

__attribute__((noinline)) static void do_calloc(void)
{
    char *p = calloc(10, 8);
    CHECK(p != NULL, "calloc");
    CHECK(all_equal(p, 80, 0), "calloc zeroed");
    use(p, 80);
    free(p);
}

__attribute__((noinline)) static void do_calloc_overflow(void)
{
    volatile size_t nmemb = SIZE_MAX / 2 + 1;
    char *p = calloc(nmemb, 2);
    CHECK(p == NULL, "calloc overflow returns NULL");
    free(p);
}

__attribute__((noinline)) static void do_realloc_null(void)
{
    char *p = realloc(NULL, 32);
    CHECK(p != NULL, "realloc(NULL)");
    fill(p, 32, 2);
    use(p, 32);
    free(p);
}

__attribute__((noinline)) static void do_realloc_zero(void)
{
    char *p = malloc(16);
    fill(p, 16, 3);
    use(p, 16);
    char *q = realloc(p, 0);
    /* glibc: realloc(p, 0) frees p and returns NULL */
    CHECK(q == NULL, "realloc(p, 0) returns NULL");
    free(q);
}

__attribute__((noinline)) static void do_realloc_shrink(void)
{
    char *p = malloc(100);
    for (int i = 0; i < 100; i++) p[i] = (char)i;
    char *q = realloc(p, 50);
    CHECK(q == p, "shrink in place");
    int ok = 1;
    for (int i = 0; i < 50; i++) ok &= q[i] == (char)i;
    CHECK(ok, "shrink keeps contents");
    use(q, 50);
    free(q);
}

__attribute__((noinline)) static void do_realloc_grow(void)
{
    char *p = malloc(16);
    for (int i = 0; i < 16; i++) p[i] = (char)(i + 7);
    char *q = realloc(p, 4000);
    CHECK(q != NULL, "grow");
    say(q != p ? "grow moved\n" : "grow in place\n");
    int ok = 1;
    for (int i = 0; i < 16; i++) ok &= q[i] == (char)(i + 7);
    CHECK(ok, "grow keeps contents");
    fill(q + 16, 4000 - 16, 9);
    use(q, 4000);
    free(q);
}

__attribute__((noinline)) static void do_realloc_steps(void)
{
    char *p = malloc(10);
    fill(p, 10, 4);
    p = realloc(p, 20);
    fill(p, 20, 4);
    p = realloc(p, 30);
    fill(p, 30, 4);
    p = realloc(p, 5);
    CHECK(p && all_equal(p, 5, 4), "realloc steps keep contents");
    use(p, 5);
    free(p);
}

__attribute__((noinline)) static void do_realloc_fail(void)
{
    char *p = malloc(64);
    fill(p, 64, 5);
    volatile size_t huge = SIZE_MAX - 4096;
    char *q = realloc(p, huge);
    CHECK(q == NULL, "huge realloc fails");
    CHECK(all_equal(p, 64, 5), "failed realloc keeps the old block");
    use(p, 64);
    free(p);
}

__attribute__((noinline)) static void do_free_null(void)
{
    free(NULL);
}

__attribute__((noinline)) static void do_memalign(void)
{
    char *p = memalign(64, 100);
    CHECK(p && ((uintptr_t)p % 64) == 0, "memalign alignment");
    fill(p, 100, 6);
    use(p, 100);
    free(p);
}

__attribute__((noinline)) static void do_posix_memalign(void)
{
    void *p = NULL;
    int rc = posix_memalign(&p, 128, 200);
    CHECK(rc == 0 && p && ((uintptr_t)p % 128) == 0, "posix_memalign");
    fill(p, 200, 7);
    use(p, 200);
    free(p);
}

__attribute__((noinline)) static void do_aligned_alloc(void)
{
    char *p = aligned_alloc(32, 64);
    CHECK(p && ((uintptr_t)p % 32) == 0, "aligned_alloc alignment");
    fill(p, 64, 8);
    use(p, 64);
    free(p);
}

__attribute__((noinline)) static void do_valloc(void)
{
    char *p = valloc(300);
    long page = sysconf(_SC_PAGESIZE);
    CHECK(p && ((uintptr_t)p % page) == 0, "valloc alignment");
    fill(p, 300, 9);
    use(p, 300);
    free(p);
}

static size_t usable;

__attribute__((noinline)) static void do_usable_size(void)
{
    char *p = malloc(13);
    usable = malloc_usable_size(p);
    CHECK(usable >= 13, "malloc_usable_size >= request");
    fill(p, 13, 10);
    use(p, 13);
    free(p);
}

int main(void)
{
    do_malloc();
    do_calloc();
    do_calloc_overflow();
    do_realloc_null();
    do_realloc_zero();
    do_realloc_shrink();
    do_realloc_grow();
    do_realloc_steps();
    do_realloc_fail();
    do_free_null();
    do_memalign();
    do_posix_memalign();
    do_aligned_alloc();
    do_valloc();
    do_usable_size();
    /* Report with write(): printf would allocate the stdout buffer. */
    char line[64];
    int n = snprintf(line, sizeof line, "usable %zu\n", usable);
    say(failures ? "" : "all ok\n");   /* after "grow moved"/"grow in place" */
    if (write(1, line, n) < 0 || write(1, msg, msg_len) < 0) return 2;
    return failures ? 1 : 0;
}
