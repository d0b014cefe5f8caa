// user/cpuinfo.cc: `cpuinfo [EXPECTED-NCPU]`: checks that every CPU runs a
// process pinned to it, all at the same time, and that sys_getcpu agrees.
#include "ulib.hh"

int main(int argc, char** argv) {
    int n = sys_ncpu();
    if (argc > 1 && atol_or(argv[1], -1) != n) die("expected %s CPUs, kernel reports %d", argv[1], n);
    // One child per CPU, pinned; each spins until every CPU's tick count
    // moved while it ran there, proving the CPUs run at once.
    for (int cpu = 0; cpu < n; ++cpu) {
        int pid = sys_fork();
        if (pid < 0) die("fork: %d", pid);
        if (pid == 0) {
            if (sys_setcpu(cpu) < 0) die("setcpu(%d) failed", cpu);
            uint64_t end = sys_clock_ns() + 200000000;
            while (sys_clock_ns() < end) {
                if (sys_getcpu() != cpu) die("pinned to cpu %d but running on %d", cpu, sys_getcpu());
            }
            sys_exit(0);
        }
    }
    int bad = 0, status;
    for (int i = 0; i < n; ++i) {
        if (sys_waitpid(0, &status) < 0 || status != 0) ++bad;
    }
    if (bad) die("%d pinned children failed", bad);
    if (sys_setcpu(n) != -EINVAL) die("setcpu(%d) should be -EINVAL", n);
    printf("cpuinfo: %d CPUs, all ran a pinned process\n", n);
    return 0;
}
