// user/preempt_user.cc: `preempt_user [MS]` (default 600): the timer
// preempts user code.
//
// Two CPU-bound children are pinned to CPU 0 and spin over the same MS
// window of wall time, reading the clock and CPU 0's count of passes
// through cpu::schedule (sys_kstat) in a loop. When that count has moved
// by two or more between two consecutive reads, the child was switched
// out and back in: it has had one more time slice. With round-robin
// preemption the two take turns, so each must have had at least
// MIN_SLICES slices and at least a quarter of the pair's slices. Without
// preemption the first child to run would keep the CPU for the whole
// window and the other would get none.
//
// The test counts slices rather than timing them: when the host stops
// QEMU's virtual CPU (a loaded machine does, for hundreds of ms), whichever
// child was running loses that time, which in a 600 ms window made a time
// share unfair by chance; the turns the scheduler gives stay the same.
// The share of running time is still printed, for a reader.
#include "ulib.hh"

namespace {
constexpr uint64_t SMALL_GAP_NS = 1000000;
constexpr int MIN_SLICES = 5;
constexpr int MIN_SHARE_PERCENT = 25;

// spinner(id, start, end): spin from `start` to `end`; report by exit
// status how many times it was switched out and back in (at most 127).
[[noreturn]] void spinner(int id, uint64_t start, uint64_t end) {
    if (sys_setcpu(0) < 0) die("setcpu(0) failed");
    while (sys_clock_ns() < start) {}
    uint64_t prev = sys_clock_ns(), running = 0, longest = 0;
    long schedules = sys_kstat(KSTAT_SCHEDULES, 0), slices = 0, reads = 0;
    while (prev < end) {
        uint64_t now = sys_clock_ns();
        long s = sys_kstat(KSTAT_SCHEDULES, 0);
        uint64_t gap = now - prev;
        if (gap < SMALL_GAP_NS) running += gap;
        if (s - schedules >= 2) ++slices;     // out and back in between the reads
        if (gap > longest) longest = gap;
        if (sys_getcpu() != 0) die("spinner %d left cpu 0", id);
        prev = now;
        schedules = s;
        ++reads;
    }
    uint64_t window = end - start;
    printf("preempt_user: spinner %d switched out and back %ld times, ran %d%% of %lu ms "
           "(longest gap %lu ms), %ld clock reads\n",
           id, slices, int(running * 100 / window), window / 1000000, longest / 1000000, reads);
    sys_exit(slices > 127 ? 127 : int(slices));
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
    int slices[2], bad = 0;
    for (int i = 0; i < 2; ++i) {
        int status = -1;
        if (sys_waitpid(pids[i], &status) != pids[i] || status < 0 || status > 127) {
            die("spinner %d did not exit normally (status %d)", i, status);
        }
        slices[i] = status;
    }
    int together = slices[0] + slices[1];
    for (int i = 0; i < 2; ++i) {
        int share = together ? slices[i] * 100 / together : 0;
        bool ok = slices[i] >= MIN_SLICES && share >= MIN_SHARE_PERCENT;
        printf("preempt_user: spinner %d: %d slices, %d%% of the pair's: %s\n", i, slices[i],
               share, ok ? "ok" : "FAILED");
        bad += !ok;
    }
    if (bad) {
        printf("preempt_user: FAILED: %d of 2 spinners did not share cpu 0\n", bad);
        return 1;
    }
    printf("preempt_user: PASS: two spinners pinned to cpu 0 shared it\n");
    return 0;
}
