// A C++ object whose members keep a back-pointer to it, created with new
// and deleted in one function: the document and its parts hold each other
// (a cycle), nothing else holds them, so all are eligible.
#define NOINLINE __attribute__((noipa))

static volatile long sink;

struct Doc;

struct Part {
   Doc* doc;
   long v;
   NOINLINE Part(Doc* d, long x) : doc(d), v(x) {}
};

struct Doc {
   Part* first;
   Part* second;
   long id;
   NOINLINE Doc(long i) : id(i)
   {
      first = new Part(this, 1); /* ALLOC-PART1 */
      second = new Part(this, 2); /* ALLOC-PART2 */
   }
   NOINLINE ~Doc()
   {
      delete first;
      delete second;
   }
   NOINLINE long sum() const { return first->v + second->v + first->doc->id; }
};

NOINLINE static long work(long i)
{
   Doc* d = new Doc(i); /* ALLOC-DOC */
   long s = d->sum();
   delete d;
   return s;
}

int main()
{
   for (long i = 0; i < 3; i++) sink += work(i);
   return 0;
}
