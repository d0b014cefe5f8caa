// user/allocstress.cc: `allocstress [ITERATIONS]`: the kernel allocator
// stress (ktest alloc) on every CPU at once, then checks that the free-page
// count returned to where it started.
#include "ulib.hh"

int main(int argc, char** argv) {
    long iters = argc > 1 ? atol_or(argv[1], 20000) : 20000;
    int n = sys_ncpu();
    sys_ktest("rcu-barrier");
    long before = sys_kstat(KSTAT_FREE_PAGES);
    for (int cpu = 0; cpu < n; ++cpu) {
        if (sys_fork() == 0) {
            sys_setcpu(cpu);
            sys_exit(sys_ktest("alloc", iters) == 0 ? 0 : 1);
        }
    }
    int failed = 0, status;
    for (int i = 0; i < n; ++i) {
        if (sys_waitpid(0, &status) < 0 || status != 0) ++failed;
    }
    if (failed) die("%d CPUs saw corrupted allocations", failed);
    sys_ktest("rcu-barrier");        // exited processes are freed after a grace period
    long after = sys_kstat(KSTAT_FREE_PAGES);
    printf("allocstress: free pages before %ld after %ld: %s\n", before, after,
           before == after ? "same" : "LEAK");
    return before == after ? 0 : 1;
}
