/* caller_owned_storage: new_record() mallocs a 48-byte record and returns
 * it; its caller use_record() reads it and frees it.  main calls
 * use_record() N times (argv[1], default 300).  Expected: N blocks of class
 * caller with home use_record at depth 1; caller_owned_storage with
 * saved_calls 2N, saved_bytes 48N, stack_cost 48, difficulty medium.
 * argv[2] == "global": use_record_global() also keeps the pointer in the
 * global g_last_record (the near miss: class global, no caller_owned_storage). */
#include <stdlib.h>
#include <string.h>

struct record { long id, a, b, c, d, e; };

struct record *g_last_record;

__attribute__((noinline)) static struct record *new_record(int i)
{
    struct record *r = malloc(sizeof *r); /* MARK:alloc */
    memset(r, 0, sizeof *r);
    r->id = i;
    return r;
}

__attribute__((noinline)) static long use_record(int i)
{
    struct record *r = new_record(i);
    long v = r->id + r->a;
    free(r);
    return v;
}

__attribute__((noinline)) static long use_record_global(int i)
{
    struct record *r = new_record(i);
    g_last_record = r; /* MARK:store */
    long v = r->id + r->a;
    free(r);
    return v;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    int global = argc > 2 && strcmp(argv[2], "global") == 0;
    volatile long sink = 0;
    for (int i = 0; i < n; i++)
        sink += global ? use_record_global(i) : use_record(i);
    return 0;
}
