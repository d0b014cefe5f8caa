// user/pidhammer.cc: `pidhammer CYCLES [busted]`: the pid table under a
// fork storm, looked up from every CPU.
//
// The hammer (process H) starts, in this order:
//   - a kernel-reader child: `ktest pidtable-readers`, kernel threads on
//     every CPU that look up the newest pids and linger on what they find
//     (kernel/ktest/ktest_pidtable.cc), until the storm below has handed
//     out its pids; H waits until they exist;
//   - a forker pinned to each CPU: CYCLES times it forks a child and reaps
//     it, as fast as it can. Each child checks itself and its parent;
//     the forker checks the child right after fork, waits until it is a
//     zombie (still found), reaps it and checks it is gone (-ESRCH);
//   - a reader pinned to each CPU: until every forker has become a zombie,
//     it asks about every forker and H (all alive, or zombies: never
//     reaped yet) and about each of the 32 newest pids, checking that each
//     answer is whole: the pid asked, a parent with a smaller pid, a state
//     and CPU in range, a NUL-terminated name that is one of this test's.
// Who is alive is known exactly at every moment, so "found" and "gone" are
// checked exactly; every wait is for an event, never a time. The last line
// is "pidhammer: PASS ..." (exit 0) or "pidhammer: FAIL ..." (exit 1).
//
// `pidhammer CYCLES busted` runs the kernel readers as
// `ktest busted:pidtable-readers`: reaped tasks are freed with no grace
// period while they run, and the kernel readers must see it. Its user-side
// checks are off (a lookup of a freed task could fault the kernel), so
// only the kernel readers judge it; it must FAIL.
#include "ulib.hh"

namespace {
constexpr int MAXCPU = 64;
int ncpu, hammer_pid, hammer_ppid;
int forkers[MAXCPU];
bool busted;

// A check failed: say it, with the answer.
// The first few are printed; the rest only counted.
void complain(const char* who, const char* what, int pid, int r, const procinfo& i) {
    static int printed = 0;
    if (++printed > 5) return;
    printf("pidhammer: %s: %s: procinfo(%d) = %d: pid %d ppid %d state %d cpu %d name \"%.32s\"\n",
           who, what, pid, r, i.pid, i.ppid, i.state, i.cpu, i.name);
}

// whole(pid, i): is this answer about `pid` believable? Not poison, not
// half of one task and half of another, not a task published before it
// was set up (a process of ours with no parent yet).
bool whole(int pid, const procinfo& i) {
    if (i.pid != pid || i.ppid < 0 || i.ppid >= pid || i.state < PS_RUNNING || i.state > PS_ZOMBIE
        || i.cpu < -1 || i.cpu >= ncpu || strnlen(i.name, sizeof(i.name)) == sizeof(i.name)) {
        return false;
    }
    if (strcmp(i.name, "pidhammer") == 0) {
        return pid <= hammer_pid || i.ppid >= hammer_pid;   // ours: a descendant of H
    }
    return strcmp(i.name, "pid-reader") == 0 || strcmp(i.name, "ktest") == 0;
}

// found_alive(who, pid, ppid, &bad): pid must be found, whole, with that parent.
void found_alive(const char* who, int pid, int ppid, long* bad) {
    procinfo i{};
    int r = sys_procinfo(pid, &i);
    if (r != 0 || !whole(pid, i) || i.ppid != ppid) {
        complain(who, "a live process is not found whole", pid, r, i);
        ++*bad;
    }
}

// The child: itself (running, here) and its parent (alive: it waits for us).
[[noreturn]] void child_main(int forker, int cpu) {
    if (busted) sys_exit(0);
    long bad = 0;
    procinfo i{};
    int me = sys_getpid();
    int r = sys_procinfo(me, &i);
    if (r != 0 || !whole(me, i) || i.ppid != forker || i.state != PS_RUNNING || i.cpu != cpu) {
        complain("child", "itself: not running here under its parent", me, r, i);
        ++bad;
    }
    r = sys_procinfo(forker, &i);
    if (r != 0 || !whole(forker, i) || i.ppid != hammer_pid || i.state == PS_ZOMBIE) {
        complain("child", "its parent is not found alive", forker, r, i);
        ++bad;
    }
    sys_exit(bad ? 1 : 0);
}

[[noreturn]] void forker_main(int cpu, long cycles) {
    sys_setcpu(cpu);
    int me = sys_getpid();
    long bad = 0, polls = 0;
    for (long n = 0; n < cycles; ++n) {
        int c = sys_fork();
        if (c == 0) child_main(me, cpu);
        if (c < 0) {
            printf("pidhammer: forker %d: fork failed: %d\n", cpu, c);
            sys_exit(1);
        }
        if (!busted) {
            found_alive("forker", c, me, &bad);
            procinfo i{};
            int r;
            while ((r = sys_procinfo(c, &i)) == 0 && i.state != PS_ZOMBIE) ++polls;
            if (r != 0 || !whole(c, i)) {
                complain("forker", "an exited child is not found until it is reaped", c, r, i);
                ++bad;
            }
        }
        int status = -1;
        if (sys_waitpid(c, &status) != c || status != 0) {
            printf("pidhammer: forker %d: child %d: status %d\n", cpu, c, status);
            ++bad;
        }
        if (!busted) {
            procinfo i{};
            int r = sys_procinfo(c, &i);
            if (r != -ESRCH) {
                complain("forker", "a reaped child is still found", c, r, i);
                ++bad;
            }
        }
    }
    printf("pidhammer: forker on cpu %d: %ld children, %ld polls for a zombie, %ld bad\n", cpu, cycles,
           polls, bad);
    sys_exit(bad ? 1 : 0);
}

[[noreturn]] void reader_main(int cpu) {
    sys_setcpu(cpu);
    long bad = 0, lookups = 0, found = 0, rounds = 0;
    for (bool storm = true; storm; ++rounds) {
        storm = false;
        for (int f = 0; f < ncpu; ++f) {
            procinfo i{};
            int r = sys_procinfo(forkers[f], &i);
            ++lookups;
            if (r != 0 || !whole(forkers[f], i) || i.ppid != hammer_pid) {
                complain("reader", "a forker (alive or a zombie, never reaped) is not found", forkers[f], r, i);
                ++bad;
            } else if (i.state != PS_ZOMBIE) {
                storm = true;
            }
        }
        found_alive("reader", hammer_pid, hammer_ppid, &bad);
        int last = int(sys_kstat(KSTAT_LAST_PID));
        for (int pid = last; pid > last - 32 && pid > hammer_pid; --pid) {
            procinfo i{};
            int r = sys_procinfo(pid, &i);
            ++lookups;
            if (r == 0) ++found;
            if ((r != 0 && r != -ESRCH) || (r == 0 && !whole(pid, i))) {
                complain("reader", "a new pid's answer is not whole", pid, r, i);
                ++bad;
            }
        }
    }
    printf("pidhammer: reader on cpu %d: %ld rounds, %ld lookups, %ld of the newest pids found, %ld bad\n",
           cpu, rounds, lookups, found, bad);
    sys_exit(bad ? 1 : 0);
}

// reap(pid, what): wait for one child; its status, or -1.
int reap(int pid, const char* what) {
    int status = -1;
    if (sys_waitpid(pid, &status) != pid) printf("pidhammer: %s %d: waitpid failed\n", what, pid);
    return status;
}
}

int main(int argc, char** argv) {
    long cycles = argc > 1 ? atol_or(argv[1], -1) : -1;
    busted = argc > 2 && strcmp(argv[2], "busted") == 0;
    if (argc < 2 || argc > 3 || cycles < 1 || (argc == 3 && !busted)) {
        dprintf(2, "usage: pidhammer CYCLES [busted]\n");
        return 2;
    }
    ncpu = sys_ncpu();
    if (ncpu > MAXCPU) ncpu = MAXCPU;
    hammer_pid = sys_getpid();
    hammer_ppid = sys_getppid();
    long npids = cycles * ncpu;          // what the forkers hand out: the kernel readers' run
    char arg[24];
    snprintf(arg, sizeof(arg), "%ld", npids);
    int kreader = sys_fork();
    if (kreader == 0) {
        const char* kargv[] = {"ktest", busted ? "busted:pidtable-readers" : "pidtable-readers", arg, nullptr};
        sys_exec("ktest", kargv);
        sys_exit(99);
    }
    // The storm starts once the kernel readers exist, so that all of its
    // pids are handed out while they run.
    for (int seen = 0; seen < ncpu; sys_yield()) {
        seen = 0;
        for (int pid = kreader + 1; pid <= sys_kstat(KSTAT_LAST_PID); ++pid) {
            procinfo i{};
            seen += sys_procinfo(pid, &i) == 0 && strcmp(i.name, "pid-reader") == 0;
        }
    }
    for (int c = 0; c < ncpu; ++c) {
        forkers[c] = sys_fork();
        if (forkers[c] == 0) forker_main(c, cycles);
    }
    int readers[MAXCPU] = {};
    for (int c = 0; c < ncpu && !busted; ++c) {
        readers[c] = sys_fork();
        if (readers[c] == 0) reader_main(c);
    }
    int failed = 0;
    for (int c = 0; c < ncpu && !busted; ++c) failed += reap(readers[c], "reader") != 0;
    for (int c = 0; c < ncpu; ++c) {
        procinfo i{};
        if (!busted && sys_procinfo(forkers[c], &i) != 0) {
            printf("pidhammer: forker %d is not found before it is reaped\n", forkers[c]);
            ++failed;
        }
        failed += reap(forkers[c], "forker") != 0;
        if (!busted && sys_procinfo(forkers[c], &i) != -ESRCH) {
            printf("pidhammer: forker %d is still found after it is reaped\n", forkers[c]);
            ++failed;
        }
    }
    failed += reap(kreader, "kernel readers (ktest)") != 0;
    if (failed) {
        printf("pidhammer: FAIL: %d of %d processes found something wrong\n", failed,
               busted ? ncpu + 1 : 2 * ncpu + 1);
        return 1;
    }
    printf("pidhammer: PASS: %ld children forked and reaped on %d CPUs, every live pid found whole\n",
           npids, ncpu);
    return 0;
}
