// user/ktest.cc: run one kernel self-test: `ktest NAME [ARG]`.
// Exits 0 if the kernel test returned >= 0, else 1 (and says so).
#include "ulib.hh"

int main(int argc, char** argv) {
    if (argc < 2) {
        dprintf(2, "usage: ktest NAME [ARG]   (kernel self-tests: see kernel/ktest/)\n");
        return 2;
    }
    long arg = argc > 2 ? atol_or(argv[2], -1) : 0;
    long r = sys_ktest(argv[1], arg);
    printf("ktest %s: %s (%ld)\n", argv[1], r >= 0 ? "passed" : "FAILED", r);
    return r >= 0 ? 0 : 1;
}
