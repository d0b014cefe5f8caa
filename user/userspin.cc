// user/userspin.cc: `userspin MASK KTEST`: keep the CPUs in bitmask MASK
// busy in user mode and run kernel self-test KTEST (with ARG = MASK) from
// CPU 0 meanwhile. Each spinner is a child pinned to its CPU that never
// enters the kernel but to look at the clock now and then; it stops after
// 30 s (as process 1, userspin's exit powers the machine off first).
// Exits 0 if the test passed.
#include "ulib.hh"

int main(int argc, char** argv) {
    long mask = argc == 3 ? atol_or(argv[1], -1) : -1;
    if (mask < 0 || (mask & 1)) {
        dprintf(2, "usage: userspin MASK KTEST   (MASK: the CPUs to keep busy; not CPU 0)\n");
        return 2;
    }
    if (sys_setcpu(0) < 0) die("cannot pin to cpu 0");
    int n = sys_ncpu();
    uint64_t until = sys_clock_ns() + 30000000000UL;
    for (int cpu = 1; cpu < n && cpu < 63; ++cpu) {
        if (!(mask & (1L << cpu))) continue;
        int pid = sys_fork();
        if (pid < 0) die("fork: %d", pid);
        if (pid == 0) {
            if (sys_setcpu(cpu) < 0) die("cannot pin to cpu %d", cpu);
            uint64_t spins = 0, next_check = 0;
            while (true) {                       // pure user-mode work, clock checked rarely
                asm volatile("" : "+r"(spins));
                if (++spins >= next_check) {
                    if (sys_clock_ns() > until) break;
                    next_check = spins + 1000000;
                }
            }
            sys_exit(0);
        }
    }
    long r = sys_ktest(argv[2], mask);
    printf("userspin: ktest %s with CPUs %#lx busy in user mode: %s (%ld)\n", argv[2], mask,
           r >= 0 ? "passed" : "FAILED", r);
    return r >= 0 ? 0 : 1;
}
