/* Escapes into memory that is neither stack nor heap: global. */
#include <string.h>
#include <sys/mman.h>
#include "cls_common.h"

char* g_ptr;              /* a plain global */
static char* volatile s_ptr;   /* a file-scope static */
char* g_interior;         /* gets p + 5 */
__thread char* t_ptr;     /* TLS of the main thread */

struct holder { long a; char* p; long b; };
struct holder g_holder;

#define N_MID 40          /* 40 * 24 = 960 bytes: vector copy loops */
#define N_BIG 400         /* 400 * 24 = 9600 bytes: rep movsb territory */
struct holder g_mid[N_MID];
struct holder g_big[N_BIG];
#define N_REP 200         /* 200 * 24 = 4800 bytes copied by an explicit rep movsb */
struct holder g_rep[N_REP];
struct pair { char* x; char* y; } __attribute__((aligned(16)));
struct pair g_pair;       /* written by one 128-bit SSE store */
typedef long v2di __attribute__((vector_size(16), may_alias));

NOINLINE static void to_global(void)
{
   char* p = malloc(16); /* ALLOC-GLOBAL */
   fill(p, 16);
   g_ptr = p; /* ESCAPE-GLOBAL */
   use(p);
   free(p);
}

NOINLINE static void to_static(void)
{
   char* p = malloc(17); /* ALLOC-STATIC */
   fill(p, 17);
   s_ptr = p; /* ESCAPE-STATIC */
   use(s_ptr);
   free(p);
}

NOINLINE static void to_fn_static(void)
{
   static char* volatile fs_ptr;
   char* p = malloc(18); /* ALLOC-FNSTATIC */
   fill(p, 18);
   fs_ptr = p; /* ESCAPE-FNSTATIC */
   use(fs_ptr);
   free(p);
}

NOINLINE static void to_tls(void)
{
   char* p = malloc(19); /* ALLOC-TLS */
   fill(p, 19);
   t_ptr = p; /* ESCAPE-TLS */
   use(t_ptr);
   free(p);
}

NOINLINE static void to_interior(void)
{
   char* p = malloc(20); /* ALLOC-INTERIOR */
   fill(p, 20);
   g_interior = p + 5; /* ESCAPE-INTERIOR */
   use(g_interior);
   free(p);
}

NOINLINE static void copy_small(void)
{
   struct holder h;
   char* p = malloc(21); /* ALLOC-SMALL */
   fill(p, 21);
   h.a = 1; h.p = p; h.b = 2;
   memcpy(&g_holder, &h, sizeof h); /* ESCAPE-SMALL */
   use(g_holder.p);
   free(p);
}

NOINLINE static void copy_array(struct holder* dst, struct holder* src, int n)
{
   memcpy(dst, src, n * sizeof *src); /* ESCAPE-ARRAY */
}

NOINLINE static char* mid_elem(void)
{
   char* p = malloc(22); /* ALLOC-MID */
   fill(p, 22);
   return p;
}

NOINLINE static void copy_mid(void)
{
   struct holder h[N_MID];
   int i;
   for (i = 0; i < N_MID; i++) { h[i].a = i; h[i].p = mid_elem(); h[i].b = -i; }
   copy_array(g_mid, h, N_MID);
   for (i = 0; i < N_MID; i++) { use(h[i].p); free(h[i].p); }
}

NOINLINE static char* big_elem(void)
{
   char* p = malloc(23); /* ALLOC-BIG */
   fill(p, 23);
   return p;
}

NOINLINE static void copy_big(void)
{
   struct holder h[N_BIG];
   int i;
   for (i = 0; i < N_BIG; i++) { h[i].a = i; h[i].p = big_elem(); h[i].b = -i; }
   copy_array(g_big, h, N_BIG);
   for (i = 0; i < N_BIG; i++) { use(h[i].p); free(h[i].p); }
}

NOINLINE static char* rep_elem(void)
{
   char* p = malloc(24); /* ALLOC-REP */
   fill(p, 24);
   return p;
}

NOINLINE static void copy_rep(void)
{
   struct holder h[N_REP];
   void* dst = g_rep;
   const void* src = h;
   unsigned long n = sizeof h;
   int i;
   for (i = 0; i < N_REP; i++) { h[i].a = i; h[i].p = rep_elem(); h[i].b = -i; }
   __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory"); /* ESCAPE-REP */
   for (i = 0; i < N_REP; i++) { use(h[i].p); free(h[i].p); }
}

NOINLINE static void store_vec(void)
{
   struct pair pr;
   pr.x = malloc(25); /* ALLOC-VEC */
   pr.y = pr.x + 1;
   fill(pr.x, 25);
   *(v2di*)&g_pair = *(const v2di*)&pr; /* ESCAPE-VEC */
   use(g_pair.y);
   free(pr.x);
}

NOINLINE static void to_mmap(char** area)
{
   char* p = malloc(26); /* ALLOC-MMAP */
   fill(p, 26);
   area[3] = p; /* ESCAPE-MMAP */
   use(area[3]);
   free(p);
}

/* argv lies above the main thread's starting stack pointer: not stack. */
NOINLINE static void to_argv(char** argv)
{
   char* p = malloc(27); /* ALLOC-ARGV */
   char* old = argv[0];
   fill(p, 27);
   argv[0] = p; /* ESCAPE-ARGV */
   use(argv[0]);
   argv[0] = old;
   free(p);
}

int main(int argc, char** argv)
{
   char** area = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
   to_global();
   to_static();
   to_fn_static();
   to_tls();
   to_interior();
   copy_small();
   copy_mid();
   copy_big();
   copy_rep();
   store_vec();
   to_mmap(area);
   to_argv(argv);
   return argc > 100;
}
