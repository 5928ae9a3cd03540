// A home whose demangled name is far longer than 255 characters.
#include <cstdio>
#include <cstdlib>

template <int N> struct A_tag_type_with_a_deliberately_long_name_for_the_demangler {};
typedef A_tag_type_with_a_deliberately_long_name_for_the_demangler<1> T1;
typedef A_tag_type_with_a_deliberately_long_name_for_the_demangler<2> T2;
typedef A_tag_type_with_a_deliberately_long_name_for_the_demangler<3> T3;
typedef A_tag_type_with_a_deliberately_long_name_for_the_demangler<4> T4;
typedef A_tag_type_with_a_deliberately_long_name_for_the_demangler<5> T5;

template <class P, class Q, class R, class S, class U>
__attribute__((noinline)) int long_named_home(P, Q, R, S, U)
{
    char* p = static_cast<char*>(std::malloc(48));
    p[0] = 3;
    int r = p[0];
    std::free(p);
    return r;
}

int main()
{
    int s = 0;
    for (int i = 0; i < 20; i++) s += long_named_home(T1(), T2(), T3(), T4(), T5());
    std::printf("%d\n", s);
    return 0;
}
