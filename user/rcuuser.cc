// user/rcuuser.cc: `rcuuser MS [busted]`: grace periods while every other
// CPU spins in user mode. Spinners are pinned to CPUs 1..n-1 and never
// enter the kernel; this process runs the kernel's grace-period test
// (rcu-gp-busy: a writer replacing and freeing an object, with readers in
// the timer interrupt on every CPU) on CPU 0. User mode is a quiescent
// state, reported at each tick, so grace periods must keep completing.
#include "ulib.hh"

int main(int argc, char** argv) {
    long ms = argc > 1 ? atol_or(argv[1], -1) : 1500;
    bool busted = argc > 2 && strcmp(argv[2], "busted") == 0;
    if (ms <= 0 || (argc > 2 && !busted)) {
        dprintf(2, "usage: rcuuser MS [busted]\n");
        return 2;
    }
    int n = sys_ncpu();
    uint64_t until = sys_clock_ns() + uint64_t(ms + 300) * 1000000;
    for (int cpu = 1; cpu < n; ++cpu) {
        if (sys_fork() == 0) {
            sys_setcpu(cpu);
            uint64_t spins = 0, next_check = 0;
            while (true) {          // pure user-mode work, clock checked rarely
                asm volatile("" : "+r"(spins));   // keep the loop
                if (++spins >= next_check) {
                    if (sys_clock_ns() > until) break;
                    next_check = spins + 1000000;
                }
            }
            sys_exit(0);
        }
    }
    sys_setcpu(0);
    sys_msleep(50);                 // let the spinners start
    long r = sys_ktest(busted ? "busted:rcu-gp-busy" : "rcu-gp-busy", ms);
    for (int i = 1; i < n; ++i) sys_waitpid(0, nullptr);
    printf("rcuuser: grace periods with %d CPUs spinning in user mode: %s\n", n - 1,
           r == 0 ? "ok" : "FAILED");
    return r == 0 ? 0 : 1;
}
