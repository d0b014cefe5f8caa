// user/forkleak.cc: `forkleak [N]` (default 2000): N fork/exit cycles
// give back every page.
//
// Each cycle forks a child that exits at once (every 10th one execs
// `forkleak child` first, so exec's fresh address space is covered too)
// and reaps it. An exited process's `proc` is freed after an RCU grace
// period, so the free-page count is read after sys_ktest("rcu-barrier")
// has run every pending RCU callback. A warm-up round first lets the
// kernel heap reach its working size.
#include "ulib.hh"

namespace {
// cycles(n): fork, (exec,) exit and reap n children.
void cycles(long n) {
    const char* argv[] = {"forkleak", "child", nullptr};
    for (long i = 0; i < n; ++i) {
        int pid = sys_fork();
        if (pid < 0) die("fork %ld failed: %d", i, pid);
        if (pid == 0) {
            if (i % 10 == 0) sys_exec("forkleak", argv);
            sys_exit(int(i & 0x7f));
        }
        int status = -1;
        if (sys_waitpid(pid, &status) != pid) die("waitpid(%d) failed", pid);
        int want = i % 10 == 0 ? 0 : int(i & 0x7f);
        if (status != want) die("child %ld exited with %d, expected %d", i, status, want);
    }
}

long free_pages() {
    if (sys_ktest("rcu-barrier") < 0) die("rcu-barrier failed");
    return sys_kstat(KSTAT_FREE_PAGES);
}
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return 0;
    long n = argc > 1 ? atol_or(argv[1], -1) : 2000;
    if (n < 1 || argc > 2) {
        dprintf(2, "usage: forkleak [CYCLES]\n");
        return 2;
    }
    cycles(50);
    long before = free_pages();
    long procs_before = sys_kstat(KSTAT_NPROCS);
    uint64_t t0 = sys_clock_ns();
    cycles(n);
    uint64_t ms = (sys_clock_ns() - t0) / 1000000;
    long after = free_pages();
    long procs_after = sys_kstat(KSTAT_NPROCS);
    printf("forkleak: %ld cycles in %lu ms: free pages before %ld after %ld, processes before %ld after %ld\n",
           n, ms, before, after, procs_before, procs_after);
    if (after != before || procs_after != procs_before) {
        printf("forkleak: FAILED: %ld pages and %ld processes leaked\n", before - after,
               procs_after - procs_before);
        return 1;
    }
    printf("forkleak: PASS: no page leaked\n");
    return 0;
}
