/* Stack switches with makecontext/swapcontext: a coroutine runs on a
   malloc'd stack.  Expected:
     before(): 3 blocks allocated and freed in main's callee before any
       switch -> frame 3;
     in_coroutine(): 5 blocks allocated and freed on the coroutine stack ->
       never eligible (the tool cannot follow that stack): no frame/caller;
     after(): 3 blocks after switching back -> frame 3 (the main stack's
       shadow frames survived the switches).
   The program prints "coroutine 5 8" and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

static ucontext_t main_ctx, co_ctx;
static int resumed;

__attribute__((noipa)) static void touch(char *p) { p[0] = 1; }

__attribute__((noipa)) static void local_work(void)
{
    char *p = malloc(32);   /* BEFORE-AFTER */
    touch(p);
    free(p);
}

__attribute__((noipa)) static void in_coroutine(void)
{
    for (volatile int i = 0; i < 5; i++) {
        char *p = malloc(48);  /* CORO */
        touch(p);
        free(p);
        resumed++;
        swapcontext(&co_ctx, &main_ctx);
    }
}

/* volatile counts: no unrolling into several call sites at -O2 */
__attribute__((noipa)) static void before(void) { for (volatile int i = 0; i < 3; i++) local_work(); }
__attribute__((noipa)) static void after(void)  { for (volatile int i = 0; i < 3; i++) local_work(); }

int main(void)
{
    size_t sz = 256 * 1024;
    char *stack = malloc(sz);
    before();
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = sz;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, in_coroutine, 0);
    int switches = 0;
    while (resumed < 5) {
        swapcontext(&main_ctx, &co_ctx);
        switches++;
    }
    swapcontext(&main_ctx, &co_ctx);   /* let it finish */
    switches++;
    after();
    free(stack);
    printf("coroutine %d %d\n", resumed, switches + 2);
    return 0;
}
