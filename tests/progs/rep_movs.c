/* Pointers copied by `rep movs` (what glibc's memcpy and memmove do from
   2 KiB up), each way the tool's one-call copy (sh_strmove.c) must agree
   with VEX's pass per element.  Usage: rep_movs SCENARIO, one of
     global    a struct holding a block's address, rep movsb'd into mmap'd
               memory (anonymous, like the heap: copied in one call)
     heap      the same into another heap block (a holder)
     stack     the same into a local buffer of the copying function
     movsw_odd rep movsw to an odd address: no pass ends on a word boundary
     movsd     rep movsd into mmap'd memory
     movsq     rep movsq into mmap'd memory, 8-byte elements unaligned
     overlap   rep movsb forward over an overlapping range (dst = src + 3)
     backward  std; rep movsb (a backward copy)
     data      rep movsb into initialised data (a file mapping: passes)
     short     a copy of 9 bytes, another of 1
   Each scenario allocates its blocks in one function and frees them
   there, so that where the address went decides the class. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "cls_common.h"

static char* g_map;   /* a page of anonymous mmap'd memory */
static char g_bss[256] __attribute__((aligned(64)));
static char g_data[256] __attribute__((aligned(64))) = { 1 };

static void movs(void* dst, const void* src, unsigned long n, int size)
{
   switch (size) {
   case 1: __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory"); break;
   case 2: __asm__ volatile("rep movsw" : "+D"(dst), "+S"(src), "+c"(n) : : "memory"); break;
   case 4: __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory"); break;
   default: __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory"); break;
   }
}

static void movsb_backward(void* dst_end, const void* src_end, unsigned long n)
{
   __asm__ volatile("std\n\trep movsb\n\tcld"
                    : "+D"(dst_end), "+S"(src_end), "+c"(n) : : "memory");
}

struct rec { long a; void* p; long b[30]; };

NOINLINE static void do_global(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movs(g_map, &r, sizeof r, 1);
   free(r.p);
}

NOINLINE static void do_heap(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   char* holder = malloc(sizeof r + 64);
   movs(holder, &r, sizeof r, 1);
   free(r.p);
   free(holder);
}

NOINLINE static void do_stack(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   char buf[sizeof r + 16];
   movs(buf, &r, sizeof r, 1);
   cls_sink += buf[3];
   free(r.p);
}

NOINLINE static void do_movsw_odd(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movs(g_map + 1, &r, sizeof r / 2, 2);
   free(r.p);
}

NOINLINE static void do_movsd(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movs(g_map, &r, sizeof r / 4, 4);
   free(r.p);
}

NOINLINE static void do_movsq(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movs(g_map + 4, &r, sizeof r / 8, 8);
   free(r.p);
}

NOINLINE static void do_overlap(void)
{
   char* buf = malloc(512);
   void* p = malloc(24);
   memset(buf, 0, 512);
   memcpy(buf + 8, &p, sizeof p);
   movs(buf + 11, buf + 8, 200, 1);     /* smears: dst runs into what it reads */
   memcpy(g_bss, buf + 16, 8);          /* (a plain copy of a smeared word) */
   free(p);
   free(buf);
}

NOINLINE static void do_backward(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movsb_backward(g_bss + sizeof r - 1, (char*)&r + sizeof r - 1, sizeof r);
   free(r.p);
}

NOINLINE static void do_data(void)
{
   struct rec r = { 1, malloc(24), { 0 } };
   movs(g_data, &r, sizeof r, 1);
   free(r.p);
}

NOINLINE static void do_short(void)
{
   void* p = malloc(24);
   char src[16];
   memcpy(src, &p, 8);
   src[8] = 7;
   movs(g_map + 64, src, 9, 1);
   movs(g_map + 128, src, 1, 1);
   free(p);
}

int main(int argc, char** argv)
{
   const char* s = argc > 1 ? argv[1] : "global";
   g_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
   if (g_map == MAP_FAILED) return 3;
   if (!strcmp(s, "global")) do_global();
   else if (!strcmp(s, "heap")) do_heap();
   else if (!strcmp(s, "stack")) do_stack();
   else if (!strcmp(s, "movsw_odd")) do_movsw_odd();
   else if (!strcmp(s, "movsd")) do_movsd();
   else if (!strcmp(s, "movsq")) do_movsq();
   else if (!strcmp(s, "overlap")) do_overlap();
   else if (!strcmp(s, "backward")) do_backward();
   else if (!strcmp(s, "data")) do_data();
   else if (!strcmp(s, "short")) do_short();
   else return 2;
   return 0;
}
