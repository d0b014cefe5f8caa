// user/preempt_user.cc: `preempt_user [MS]` (default 600): the timer
// preempts user code.
//
// Two CPU-bound children are pinned to CPU 0 and spin over the same MS
// window of wall time, reading the clock in a loop. A child adds up the
// small gaps (< 1 ms) between consecutive reads as its own running time;
// a gap of 2 ms or more means it was switched out. With round-robin
// preemption each gets about half of the window, so each must have run
// for at least 15% of it and have been preempted at least once. Without
// preemption the first child to run would keep the CPU for the whole
// window and the other would get nothing.
#include "ulib.hh"

namespace {
constexpr uint64_t SMALL_GAP_NS = 1000000;
constexpr uint64_t PREEMPTED_GAP_NS = 2000000;

// spinner(id, start, end): spin from `start` to `end`; exit 0 if this
// child ran enough and was preempted, 1 if not.
[[noreturn]] void spinner(int id, uint64_t start, uint64_t end) {
    if (sys_setcpu(0) < 0) die("setcpu(0) failed");
    while (sys_clock_ns() < start) {}
    uint64_t prev = sys_clock_ns(), running = 0, longest = 0;
    long preempted = 0, reads = 0;
    while (prev < end) {
        uint64_t now = sys_clock_ns();
        uint64_t gap = now - prev;
        if (gap < SMALL_GAP_NS) running += gap;
        if (gap >= PREEMPTED_GAP_NS) ++preempted;
        if (gap > longest) longest = gap;
        if (sys_getcpu() != 0) die("spinner %d left cpu 0", id);
        prev = now;
        ++reads;
    }
    uint64_t window = end - start;
    int percent = int(running * 100 / window);
    bool ok = percent >= 15 && preempted >= 1;
    printf("preempt_user: spinner %d: ran %d%% of %lu ms, preempted %ld times (longest gap %lu ms), %ld clock reads: %s\n",
           id, percent, window / 1000000, preempted, longest / 1000000, reads, ok ? "ok" : "FAILED");
    sys_exit(ok ? 0 : 1);
}
}

int main(int argc, char** argv) {
    long ms = argc > 1 ? atol_or(argv[1], -1) : 600;
    if (ms < 50 || ms > 10000 || argc > 2) {
        dprintf(2, "usage: preempt_user [MS (50-10000)]\n");
        return 2;
    }
    // Both start at the same moment, after both have been forked and pinned.
    uint64_t start = sys_clock_ns() + 100000000, end = start + ms * 1000000;
    int pids[2];
    for (int i = 0; i < 2; ++i) {
        pids[i] = sys_fork();
        if (pids[i] < 0) die("fork failed: %d", pids[i]);
        if (pids[i] == 0) spinner(i, start, end);
    }
    int bad = 0;
    for (int i = 0; i < 2; ++i) {
        int status = -1;
        if (sys_waitpid(pids[i], &status) != pids[i] || status != 0) ++bad;
    }
    if (bad) {
        printf("preempt_user: FAILED: %d of 2 spinners did not share cpu 0\n", bad);
        return 1;
    }
    printf("preempt_user: PASS: two spinners pinned to cpu 0 shared it\n");
    return 0;
}
