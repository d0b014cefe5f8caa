// user/hello.cc: the smallest program: prints its arguments.
#include "ulib.hh"

int main(int argc, char** argv) {
    printf("hello from pid %d on cpu %d of %d:", sys_getpid(), sys_getcpu(), sys_ncpu());
    for (int i = 1; i < argc; ++i) printf(" %s", argv[i]);
    printf("\n");
    return 0;
}
