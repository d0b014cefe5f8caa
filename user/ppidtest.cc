// user/ppidtest.cc: `ppidtest [ORPHANS]` (default 3): getppid before and
// after the parent exits.
//
// The first process R forks a child C; C checks getppid() == R, forks
// ORPHANS grandchildren, sleeps 300 ms and exits without waiting for them.
// Each grandchild checks getppid() == C at once, then calls getppid() in a
// tight loop (racing with C's exit and R reaping C, which frees C's `proc`
// after an RCU grace period) until it returns 1, for at most 5 s. Every
// value it sees must be C's pid or 1: anything else is a read of a freed
// or half-updated parent. When R is process 1 the orphans become its
// children, so R reaps them and checks their statuses.
#include "ulib.hh"

namespace {
constexpr uint64_t PARENT_LIFETIME_MS = 300;
constexpr uint64_t ORPHAN_TIMEOUT_NS = 5000000000UL;

// orphan(parent): a grandchild's work; returns its exit status.
int orphan(int parent) {
    int me = sys_getpid();
    int first = sys_getppid();
    if (first != parent) {
        printf("ppidtest: orphan %d: getppid() = %d before the parent exited, expected %d\n",
               me, first, parent);
        return 1;
    }
    uint64_t start = sys_clock_ns();
    long polls = 0;
    while (true) {
        int ppid = sys_getppid();
        ++polls;
        if (ppid == 1) break;
        if (ppid != parent) {
            printf("ppidtest: orphan %d: getppid() = %d, expected %d or 1\n", me, ppid, parent);
            return 1;
        }
        if (sys_clock_ns() - start > ORPHAN_TIMEOUT_NS) {
            printf("ppidtest: orphan %d: getppid() still %d after 5 s\n", me, ppid);
            return 1;
        }
    }
    uint64_t ms = (sys_clock_ns() - start) / 1000000;
    printf("ppidtest: orphan %d on cpu %d: parent %d, then 1 after %ld polls (%lu ms)\n",
           me, sys_getcpu(), parent, polls, ms);
    return 0;
}

// middle(orphans): C's work: fork the orphans-to-be, then exit.
[[noreturn]] void middle(int grandparent, int orphans) {
    int me = sys_getpid();
    if (sys_getppid() != grandparent) {
        printf("ppidtest: child %d: getppid() = %d, expected %d\n", me, sys_getppid(), grandparent);
        sys_exit(1);
    }
    for (int i = 0; i < orphans; ++i) {
        int pid = sys_fork();
        if (pid < 0) {
            printf("ppidtest: fork failed: %d\n", pid);
            sys_exit(1);
        }
        if (pid == 0) sys_exit(orphan(me));
    }
    sys_msleep(PARENT_LIFETIME_MS);
    sys_exit(0);
}
}

int main(int argc, char** argv) {
    long orphans = argc > 1 ? atol_or(argv[1], -1) : 3;
    if (orphans < 1 || orphans > 32 || argc > 2) {
        dprintf(2, "usage: ppidtest [ORPHANS (1-32)]\n");
        return 2;
    }
    int me = sys_getpid();
    bool is_init = me == 1;
    if (is_init && sys_getppid() != 0) die("process 1 has parent %d, expected 0", sys_getppid());
    int child = sys_fork();
    if (child < 0) die("fork failed: %d", child);
    if (child == 0) middle(me, int(orphans));

    int status = -1;
    if (sys_waitpid(child, &status) != child || status != 0) {
        die("child %d exited with %d", child, status);
    }
    if (!is_init) {
        // The orphans are process 1's now; they print their own results.
        printf("ppidtest: not process 1: the orphans report for themselves\n");
        return 0;
    }
    int bad = 0;
    for (long i = 0; i < orphans; ++i) {
        int pid = sys_waitpid(0, &status);
        if (pid < 0) die("only %ld of %ld orphans came to process 1 (waitpid: %d)", i, orphans, pid);
        if (status != 0) ++bad;
    }
    if (sys_waitpid(0, nullptr) != -ECHILD) die("process 1 has more children than expected");
    if (bad) die("%d of %ld orphans FAILED", bad, orphans);
    printf("ppidtest: PASS: %ld orphans saw their parent, then process 1, and were reaped by it\n", orphans);
    return 0;
}
