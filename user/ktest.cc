// user/ktest.cc: run one kernel self-test: `ktest NAME [ARG]`, or
// `ktest busted:NAME [ARG]` (the same with RCU's grace periods skipped).
// Exits 0 if the kernel test returned >= 0, else 1 (and says so).
// `ktest --list` (or `ktest list`) prints the registered tests.
#include "ulib.hh"

int main(int argc, char** argv) {
    if (argc == 2 && (strcmp(argv[1], "--list") == 0 || strcmp(argv[1], "list") == 0)) {
        printf("kernel self-tests (ktest NAME [ARG]; [N]: ARG when none is given):\n");
        return sys_kprint("tests") == 0 ? 0 : 1;
    }
    if (argc < 2 || argc > 3) {
        dprintf(2, "usage: ktest NAME [ARG]   (ktest --list: the kernel self-tests)\n");
        return 2;
    }
    long arg = argc > 2 ? atol_or(argv[2], -1) : 0;
    long r = sys_ktest(argv[1], arg);
    printf("ktest %s: %s (%ld)\n", argv[1], r >= 0 ? "passed" : "FAILED", r);
    return r >= 0 ? 0 : 1;
}
