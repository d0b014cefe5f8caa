// user/preempt_user.cc: `preempt_user [MS]` (default 600): the timer
// preempts user code.
//
// Two CPU-bound children are pinned to CPU 0 and spin over the same MS
// window of wall time, reading the clock in a loop. A child adds up the
// small gaps (< 1 ms) between consecutive reads as its own running time;
// a gap of 2 ms or more means it was switched out. With round-robin
// preemption each gets about half of the time the two ran together, so
// each must have had at least a quarter of it and have been preempted at
// least once. Without preemption the first child to run would keep the
// CPU for the whole window and the other would get nothing.
//
// The share is of the pair's running time, not of the window: when the
// host deschedules QEMU both children lose that time alike, so a slow
// host cannot fail the test, while an unfair or absent preemption still
// does.
#include "ulib.hh"

namespace {
constexpr uint64_t SMALL_GAP_NS = 1000000;
constexpr uint64_t PREEMPTED_GAP_NS = 2000000;

// spinner(id, start, end): spin from `start` to `end`; report by exit
// status how much of the window it ran (percent, bits 0-6) and whether it
// was preempted at least once (bit 7).
constexpr int PREEMPTED_BIT = 128;
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
    printf("preempt_user: spinner %d ran %d%% of %lu ms, preempted %ld times (longest gap %lu ms), %ld clock reads\n",
           id, percent, window / 1000000, preempted, longest / 1000000, reads);
    sys_exit((percent > 100 ? 100 : percent) | (preempted ? PREEMPTED_BIT : 0));
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
    int percent[2], bad = 0;
    bool preempted[2];
    for (int i = 0; i < 2; ++i) {
        int status = -1;
        if (sys_waitpid(pids[i], &status) != pids[i] || status < 0 || status > 255) {
            die("spinner %d did not exit normally (status %d)", i, status);
        }
        percent[i] = status & ~PREEMPTED_BIT;
        preempted[i] = status & PREEMPTED_BIT;
    }
    int together = percent[0] + percent[1];
    for (int i = 0; i < 2; ++i) {
        int share = together ? percent[i] * 100 / together : 0;
        bool ok = share >= 25 && preempted[i];
        printf("preempt_user: spinner %d: %d%% of the pair's running time, %spreempted: %s\n", i, share,
               preempted[i] ? "" : "never ", ok ? "ok" : "FAILED");
        bad += !ok;
    }
    if (bad) {
        printf("preempt_user: FAILED: %d of 2 spinners did not share cpu 0\n", bad);
        return 1;
    }
    printf("preempt_user: PASS: two spinners pinned to cpu 0 shared it\n");
    return 0;
}
