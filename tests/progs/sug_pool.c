/* object_pool: a FIFO of 24-byte nodes kept in a global linked list
 * (g_head/g_tail).  churn(total, keep) pushes `total` nodes, popping and
 * freeing the oldest whenever `keep` are queued, then drains the list.
 * Default: total 1000, keep 8 -> 1000 blocks, at most 8 alive, all escaping
 * (global/heap) -> object_pool with saved_calls 2*(1000-8) = 1,984,
 * saved_bytes 992*24 = 23,808.  argv[1] = total; total 10 is the near miss. */
#include <stdlib.h>

struct node { struct node *next; long value; long pad; };

struct node *g_head, *g_tail;

__attribute__((noinline)) static void push(long v)
{
    struct node *n = malloc(sizeof *n); /* MARK:alloc */
    n->next = NULL;
    n->value = v;
    if (g_tail) g_tail->next = n; else g_head = n;
    g_tail = n;
}

__attribute__((noinline)) static long pop(void)
{
    struct node *n = g_head;
    long v = n->value;
    g_head = n->next;
    if (g_head == NULL) g_tail = NULL;
    free(n);
    return v;
}

__attribute__((noinline)) static long churn(int total, int keep)
{
    long s = 0;
    int queued = 0;
    for (int i = 0; i < total; i++) {
        if (queued == keep) { s += pop(); queued--; }
        push(i);
        queued++;
    }
    while (queued-- > 0) s += pop();
    return s;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 1000;
    volatile long sink = churn(total, 8);
    (void)sink;
    return 0;
}
