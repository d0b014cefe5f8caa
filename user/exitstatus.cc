// user/exitstatus.cc: exit statuses and the forms of waitpid.
//
// Children exit with 0, 1, 42, 255, 256 and -1 (the parent must see the
// low 8 bits: 0, 1, 42, 255, 0, 255), one more returns 7 from main.
// waitpid is checked by pid, with pid 0 (any child), with a NULL status
// pointer, and for -ECHILD with no children, a pid that is not a child
// (a grandchild, a made-up pid) and a child already reaped.
#include "ulib.hh"

namespace {
int failures = 0;

void check(bool ok, const char* what, long got, long want) {
    printf("exitstatus: %-48s got %ld, want %ld: %s\n", what, got, want, ok ? "ok" : "FAILED");
    if (!ok) ++failures;
}

// child_exiting(status): fork a child that calls sys_exit(status).
int child_exiting(int status) {
    int pid = sys_fork();
    if (pid < 0) die("fork failed: %d", pid);
    if (pid == 0) sys_exit(status);
    return pid;
}
}

int main(int argc, char** argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "child-returns") == 0) return 7;   // see below
        dprintf(2, "usage: exitstatus\n");
        return 2;
    }
    char what[64];
    check(sys_waitpid(0, nullptr) == -ECHILD, "waitpid(0) with no children", sys_waitpid(0, nullptr), -ECHILD);

    // Each status, reaped by pid.
    const int statuses[] = {0, 1, 42, 255, 256, -1};
    for (int s : statuses) {
        int pid = child_exiting(s);
        int status = -12345;
        int got = sys_waitpid(pid, &status);
        snprintf(what, sizeof(what), "waitpid(pid) returns the pid (exit %d)", s);
        check(got == pid, what, got, pid);
        snprintf(what, sizeof(what), "status of exit(%d)", s);
        check(status == (s & 0xff), what, status, s & 0xff);
        check(sys_waitpid(pid, &status) == -ECHILD, "waitpid of a reaped child", sys_waitpid(pid, &status), -ECHILD);
    }

    // Returning from main is exiting with that value.
    {
        int pid = sys_fork();
        if (pid == 0) {
            const char* argv[] = {"exitstatus", "child-returns", nullptr};
            sys_exec("exitstatus", argv);
            sys_exit(99);
        }
        int status = -1;
        sys_waitpid(pid, &status);
        check(status == 7, "status of `return 7` from main (after exec)", status, 7);
    }

    // waitpid(0): any child, each exactly once; NULL status allowed.
    constexpr int N = 5;
    int pids[N];
    bool seen[N] = {};
    for (int i = 0; i < N; ++i) pids[i] = child_exiting(10 + i);
    for (int i = 0; i < N; ++i) {
        int status = -1;
        int* sp = i == N - 1 ? nullptr : &status;
        int got = sys_waitpid(0, sp);
        int which = -1;
        for (int j = 0; j < N; ++j) {
            if (pids[j] == got && !seen[j]) which = j;
        }
        snprintf(what, sizeof(what), "waitpid(0) #%d returns an unreaped child", i + 1);
        check(which >= 0, what, got, which >= 0 ? got : pids[0]);
        if (which < 0) continue;
        seen[which] = true;
        if (sp) {
            snprintf(what, sizeof(what), "waitpid(0) #%d status", i + 1);
            check(status == 10 + which, what, status, 10 + which);
        }
    }
    check(sys_waitpid(0, nullptr) == -ECHILD, "waitpid(0) after reaping all", sys_waitpid(0, nullptr), -ECHILD);

    // A grandchild is not a child; nor is a pid nobody has.
    {
        int pid = sys_fork();
        if (pid == 0) {
            int grandchild = child_exiting(3);
            sys_msleep(20);
            int r = sys_waitpid(grandchild, nullptr);
            sys_exit(r == grandchild ? 0 : 1);
        }
        // The grandchild's pid is pid + 1 unless another process forked
        // meanwhile (none does in this test).
        int r = sys_waitpid(pid + 1, nullptr);
        check(r == -ECHILD, "waitpid of a grandchild", r, -ECHILD);
        int status = -1;
        sys_waitpid(pid, &status);
        check(status == 0, "the child reaped its own child", status, 0);
        check(sys_waitpid(99999, nullptr) == -ECHILD, "waitpid(99999)", sys_waitpid(99999, nullptr), -ECHILD);
    }

    // A child still running: waitpid by pid blocks until it exits.
    {
        uint64_t t0 = sys_clock_ns();
        int pid = sys_fork();
        if (pid == 0) {
            sys_msleep(100);
            sys_exit(5);
        }
        int status = -1;
        int got = sys_waitpid(pid, &status);
        uint64_t ms = (sys_clock_ns() - t0) / 1000000;
        check(got == pid && status == 5, "waitpid blocks for a running child", status, 5);
        check(ms >= 100, "... for at least its 100 ms sleep (ms)", long(ms), 100);
    }

    if (failures) {
        printf("exitstatus: FAILED (%d checks)\n", failures);
        return 1;
    }
    printf("exitstatus: PASS\n");
    return 0;
}
