// user/preempt_kernel.cc: the timer preempts kernel code too, unless
// preemption is disabled.
//
// A CPU-bound competitor and this process are both pinned to CPU 0. Then:
//  - sys_ktest("spin", 300) busy-waits 300 ms in the kernel with
//    preemption enabled and returns how many times CPU 0 passed through
//    cpu::schedule meanwhile: it must be > 0 (the competitor got turns
//    while this process was in the kernel);
//  - sys_ktest("spin-nopreempt", 300) does the same with preemption
//    disabled: it must return 1 (no schedule during the spin, a
//    reschedule was wanted by the timer and ran the moment preemption
//    was enabled again). -1: scheduled while preemption was off; -2: the
//    wanted reschedule did not run at once; 0: none was wanted (the
//    competitor was not runnable).
#include "ulib.hh"

int main(int argc, char**) {
    if (argc > 1) {
        dprintf(2, "usage: preempt_kernel\n");
        return 2;
    }
    constexpr uint64_t COMPETITOR_NS = 1500000000UL;
    int competitor = sys_fork();
    if (competitor < 0) die("fork failed: %d", competitor);
    if (competitor == 0) {
        if (sys_setcpu(0) < 0) die("setcpu(0) failed");
        uint64_t end = sys_clock_ns() + COMPETITOR_NS;
        while (sys_clock_ns() < end) {}
        sys_exit(0);
    }
    if (sys_setcpu(0) < 0) die("setcpu(0) failed");
    sys_msleep(20);                    // let the competitor reach cpu 0

    long spin = sys_ktest("spin", 300);
    bool spin_ok = spin > 0;
    printf("preempt_kernel: spin(300) with preemption on: cpu 0 scheduled %ld times: %s\n",
           spin, spin_ok ? "ok" : "FAILED (the kernel was not preempted)");
    long nopreempt = sys_ktest("spin-nopreempt", 300);
    bool nopreempt_ok = nopreempt == 1;
    const char* meaning = nopreempt == 1   ? "no schedule during, the wanted one ran at once"
                          : nopreempt == 0  ? "no reschedule was wanted (competitor not runnable?)"
                          : nopreempt == -1 ? "scheduled while preemption was disabled"
                          : nopreempt == -2 ? "the wanted reschedule did not run on enable"
                                            : "unexpected";
    printf("preempt_kernel: spin-nopreempt(300): %ld: %s: %s\n", nopreempt, meaning,
           nopreempt_ok ? "ok" : "FAILED");

    int status = -1;
    if (sys_waitpid(competitor, &status) != competitor || status != 0) {
        die("competitor exited with %d", status);
    }
    if (!spin_ok || !nopreempt_ok) {
        printf("preempt_kernel: FAILED\n");
        return 1;
    }
    printf("preempt_kernel: PASS\n");
    return 0;
}
