/* stackheap client requests (stackheap.h).
 *   collect: 10 blocks in before_stop(), SH_STOP_COLLECTING, 20 blocks in
 *            while_stopped(), SH_START_COLLECTING, 30 blocks in
 *            after_start().  Default options: 40 blocks counted (no
 *            while_stopped site); --collect-atstart=no: only the 30.
 *   dump:    5 blocks freed in frame_blocks(), 3 blocks from keep_block()
 *            kept in main's local array; SH_DUMP_REPORT("after-setup");
 *            7 more frame_blocks(); SH_DUMP_REPORT("second"); the 3 kept
 *            blocks freed; exit.  Dump 1: 8 blocks (3 live, never_freed),
 *            dump 2: 15 blocks, exit: 15 blocks, none never_freed.
 *   phase:   SH_SET_PHASE("parse") 4 blocks in parse_step(),
 *            SH_SET_PHASE("eval") 6 in eval_step(), SH_SET_PHASE("parse")
 *            2 more in parse_step(): phases parse = 6 blocks, eval = 6.
 * Without Valgrind every request is a no-op.  The program writes "ok <mode>"
 * with write(2): stdio would allocate a buffer of its own. */
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "stackheap.h"

__attribute__((noinline)) static int touch(char *p, size_t n)
{
    memset(p, 3, n);
    return p[n - 1];
}

__attribute__((noinline)) static int before_stop(void)
{ char *p = malloc(16); int s = touch(p, 16); free(p); return s; }

__attribute__((noinline)) static int while_stopped(void)
{ char *p = malloc(16); int s = touch(p, 16); free(p); return s; }

__attribute__((noinline)) static int after_start(void)
{ char *p = malloc(16); int s = touch(p, 16); free(p); return s; }

__attribute__((noinline)) static int frame_blocks(void)
{ char *p = malloc(24); int s = touch(p, 24); free(p); return s; }

__attribute__((noinline)) static char *keep_block(void)
{ char *p = malloc(40); touch(p, 40); return p; }

__attribute__((noinline)) static int parse_step(void)
{ char *p = malloc(32); int s = touch(p, 32); free(p); return s; }

__attribute__((noinline)) static int eval_step(void)
{ char *p = malloc(48); int s = touch(p, 48); free(p); return s; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "collect";
    volatile int sink = 0;
    int i;
    if (strcmp(mode, "collect") == 0) {
        for (i = 0; i < 10; i++) sink += before_stop();
        SH_STOP_COLLECTING();
        for (i = 0; i < 20; i++) sink += while_stopped();
        SH_START_COLLECTING();
        for (i = 0; i < 30; i++) sink += after_start();
    } else if (strcmp(mode, "dump") == 0) {
        char *kept[3];
        for (i = 0; i < 5; i++) sink += frame_blocks();
        for (i = 0; i < 3; i++) kept[i] = keep_block();
        SH_DUMP_REPORT("after-setup");
        for (i = 0; i < 7; i++) sink += frame_blocks();
        SH_DUMP_REPORT("second");
        for (i = 0; i < 3; i++) free(kept[i]);
    } else if (strcmp(mode, "phase") == 0) {
        SH_SET_PHASE("parse");
        for (i = 0; i < 4; i++) sink += parse_step();
        SH_SET_PHASE("eval");
        for (i = 0; i < 6; i++) sink += eval_step();
        SH_SET_PHASE("parse");
        for (i = 0; i < 2; i++) sink += parse_step();
    } else {
        return 2;
    }
    write(1, "ok ", 3);
    write(1, mode, strlen(mode));
    write(1, "\n", 1);
    return 0;
}
