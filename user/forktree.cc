// user/forktree.cc: `forktree [DEPTH [FANOUT]]` (default 4 2): a tree of
// processes built with fork, exec and waitpid.
//
// Every node with depth > 0 forks FANOUT children; each child execs
// `forktree DEPTH-1 FANOUT node`, so every level is a fresh image. A node
// exits with status 100 + its depth when its whole subtree checked out,
// 1 otherwise. A parent reaps its children alternately by pid and with
// waitpid(0) (any child), checks that each pid comes back exactly once
// with the status its depth implies, and that waitpid then says ECHILD.
// The root (no `node` argument) prints the total and exits 0 on success.
#include "ulib.hh"

namespace {
constexpr int MAX_FANOUT = 8;
constexpr int MAX_DEPTH = 6;

// check_children(depth, fanout): the body of one node with children.
// Returns true if every child ended as expected.
bool check_children(long depth, long fanout) {
    char depth_arg[16], fanout_arg[16];
    snprintf(depth_arg, sizeof(depth_arg), "%ld", depth - 1);
    snprintf(fanout_arg, sizeof(fanout_arg), "%ld", fanout);
    const char* argv[] = {"forktree", depth_arg, fanout_arg, "node", nullptr};
    int pids[MAX_FANOUT];
    bool reaped[MAX_FANOUT] = {};
    bool ok = true;
    for (int i = 0; i < fanout; ++i) {
        pids[i] = sys_fork();
        if (pids[i] < 0) {
            printf("forktree: pid %d: fork failed: %d\n", sys_getpid(), pids[i]);
            sys_exit(1);
        }
        if (pids[i] == 0) {
            int r = sys_exec("forktree", argv);
            printf("forktree: exec failed: %d\n", r);
            sys_exit(1);
        }
    }
    int expected = int(100 + depth - 1);
    for (int i = 0; i < fanout; ++i) {
        // Even rounds wait for the last unreaped child by pid, odd rounds
        // for any child.
        int want = 0;
        if (i % 2 == 0) {
            for (int j = fanout - 1; j >= 0; --j) {
                if (!reaped[j]) { want = pids[j]; break; }
            }
        }
        int status = -1;
        int got = sys_waitpid(want, &status);
        int which = -1;
        for (int j = 0; j < fanout; ++j) {
            if (pids[j] == got && !reaped[j]) which = j;
        }
        if (which < 0 || (want != 0 && got != want)) {
            printf("forktree: pid %d: waitpid(%d) returned %d, not an unreaped child\n",
                   sys_getpid(), want, got);
            ok = false;
            continue;
        }
        reaped[which] = true;
        if (status != expected) {
            printf("forktree: pid %d: child %d (depth %ld) exited with %d, expected %d\n",
                   sys_getpid(), got, depth - 1, status, expected);
            ok = false;
        }
    }
    int extra = sys_waitpid(0, nullptr);
    if (extra != -ECHILD) {
        printf("forktree: pid %d: waitpid after reaping all returned %d, expected -ECHILD\n",
               sys_getpid(), extra);
        ok = false;
    }
    return ok;
}
}

int main(int argc, char** argv) {
    long depth = argc > 1 ? atol_or(argv[1], -1) : 4;
    long fanout = argc > 2 ? atol_or(argv[2], -1) : 2;
    bool is_node = argc > 3 && strcmp(argv[3], "node") == 0;
    if (depth < 0 || depth > MAX_DEPTH || fanout < 1 || fanout > MAX_FANOUT || (argc > 3 && !is_node)) {
        dprintf(2, "usage: forktree [DEPTH (0-%d) [FANOUT (1-%d)]]\n", MAX_DEPTH, MAX_FANOUT);
        return 2;
    }
    uint64_t t0 = sys_clock_ns();
    bool ok = depth == 0 || check_children(depth, fanout);
    if (is_node) return ok ? int(100 + depth) : 1;
    long nodes = 0, level = 1;
    for (long d = 0; d <= depth; ++d, level *= fanout) nodes += level;
    if (!ok) {
        printf("forktree: FAILED (depth %ld, fan-out %ld)\n", depth, fanout);
        return 1;
    }
    printf("forktree: depth %ld fan-out %ld: %ld processes, every status and pid right (%lu ms)\n",
           depth, fanout, nodes, (sys_clock_ns() - t0) / 1000000);
    return 0;
}
