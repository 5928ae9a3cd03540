/* Allocation sites across a library unloaded and another one loaded in
   its place (tests/test_site_epochs.py): site_epochs LIB_A LIB_B calls
   LIB_A's lib_alloc 5 times, closes LIB_A, opens LIB_B (at the same
   address when the loader reuses it: prints "same-address") and calls
   its lib_alloc 7 times, from the same call site.  LIB_B stays loaded,
   so the report names the code at that address by LIB_B's symbols. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noipa))

NOINLINE static void* call_lib(const char* path, int calls, int close)
{
   void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
   void (*fn)(int);
   int i;
   if (h == NULL) { fprintf(stderr, "dlopen: %s\n", dlerror()); exit(2); }
   fn = (void (*)(int))dlsym(h, "lib_alloc");
   if (fn == NULL) { fprintf(stderr, "dlsym: %s\n", dlerror()); exit(2); }
   for (i = 0; i < calls; i++) fn(i);
   if (close) dlclose(h);
   return (void*)fn;
}

int main(int argc, char** argv)
{
   void* fn[2];
   int k;
   if (argc != 3) return 1;
   for (k = 0; k < 2; k++)   /* one call site: the same stacks */
      fn[k] = call_lib(argv[1 + k], k == 0 ? 5 : 7, k == 0);
   if (fn[0] == fn[1]) printf("same-address\n");
   return 0;
}
