// user/procinfo.cc: `procinfo`: sys_procinfo as docs/abi.md specifies it,
// one process at a time through its life: the caller itself (running, on
// its CPU), a child just forked, the same child asleep on the CPU it pinned
// itself to, after it exec'd another program (the name follows), as a
// zombie, and after it is reaped (-ESRCH); an orphan re-parented to process
// 1; pids never handed out. Every wait is for an event (a state the child
// reaches), never a time: the child sleeps until the parent forks a marker
// process, which it sees as KSTAT_LAST_PID moving. One line per check;
// exit 0 iff all passed.
#include "ulib.hh"

namespace {
int failures = 0, checks = 0;

void expect(bool ok, const char* what, int result, const procinfo& i) {
    ++checks;
    printf("procinfo: %-62s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) {
        ++failures;
        printf("procinfo: ... result %d: pid %d ppid %d state %d cpu %d name \"%.32s\"\n", result,
               i.pid, i.ppid, i.state, i.cpu, i.name);
    }
}

// until_state(pid, state, &info): ask until `pid` is in `state`; the last
// answer (which is not 0 if the process is gone).
int until_state(int pid, int state, procinfo* info) {
    int r;
    while ((r = sys_procinfo(pid, info)) == 0 && info->state != state) sys_yield();
    return r;
}

// The child: pin to CPU 0, sleep until the parent forks again, then become
// `exitstatus`, which exits 7.
[[noreturn]] void child(long last_pid) {
    sys_setcpu(0);
    while (sys_kstat(KSTAT_LAST_PID) == last_pid) sys_msleep(2);
    const char* argv[] = {"exitstatus", "child-returns", nullptr};
    sys_exec("exitstatus", argv);
    sys_exit(99);
}

void check_self() {
    int me = sys_getpid(), ncpu = sys_ncpu();
    sys_setcpu(ncpu - 1);
    procinfo i{};
    int r = sys_procinfo(me, &i);
    expect(r == 0 && i.pid == me && i.ppid == sys_getppid() && i.state == PS_RUNNING,
           "the caller: its pid, its parent, running", r, i);
    expect(r == 0 && i.cpu == ncpu - 1 && strcmp(i.name, "procinfo") == 0,
           "the caller: on the CPU it pinned itself to, named procinfo", r, i);
    sys_setcpu(-1);
}

void check_nobody() {
    procinfo i{};
    long last = sys_kstat(KSTAT_LAST_PID);
    int r = sys_procinfo(0, &i);
    expect(r == -ESRCH, "pid 0: -ESRCH", r, i);
    r = sys_procinfo(-1, &i);
    expect(r == -ESRCH, "pid -1: -ESRCH", r, i);
    r = sys_procinfo(int(last) + 1, &i);
    expect(r == -ESRCH, "the next pid, not handed out yet: -ESRCH", r, i);
    r = sys_procinfo(0x7fffffff, &i);
    expect(r == -ESRCH, "pid 2^31-1: -ESRCH", r, i);
}

void check_child_life() {
    int me = sys_getpid();
    long last = sys_kstat(KSTAT_LAST_PID);
    int c = sys_fork();
    if (c < 0) die("fork failed: %d", c);
    if (c == 0) child(last + 1);
    procinfo i{};
    int r = sys_procinfo(c, &i);
    expect(r == 0 && i.pid == c && i.ppid == me && i.state != PS_ZOMBIE && strcmp(i.name, "procinfo") == 0,
           "a child just forked: found, its parent, its parent's name", r, i);
    r = until_state(c, PS_SLEEPING, &i);
    expect(r == 0 && i.state == PS_SLEEPING && i.cpu == 0, "the child asleep: sleeping, on CPU 0", r, i);
    int m = sys_fork();                    // the marker the child waits for
    if (m == 0) sys_exit(0);
    if (m < 0) die("fork failed: %d", m);
    expect(sys_waitpid(m, nullptr) == m, "the marker child is reaped", 0, i);
    r = sys_procinfo(m, &i);
    expect(r == -ESRCH, "a child exited and reaped: -ESRCH", r, i);
    r = until_state(c, PS_ZOMBIE, &i);
    expect(r == 0 && i.state == PS_ZOMBIE && i.pid == c && i.ppid == me && strcmp(i.name, "exitstatus") == 0,
           "the child after exec and exit: a zombie named exitstatus", r, i);
    int status = -1;
    expect(sys_waitpid(c, &status) == c && status == 7, "the child is reaped, status 7", status, i);
    r = sys_procinfo(c, &i);
    expect(r == -ESRCH, "the reaped child: -ESRCH", r, i);
}

// check_orphan(): as process 1, a grandchild whose parent exits becomes
// ours: its ppid turns to 1 and it stays found until we reap it.
void check_orphan() {
    if (sys_getpid() != 1) {
        printf("procinfo: (not process 1: the orphan check is left out)\n");
        return;
    }
    int d = sys_fork();
    if (d < 0) die("fork failed: %d", d);
    if (d == 0) {
        int g = sys_fork();
        if (g == 0) {
            while (sys_getppid() != 1) sys_yield();
            sys_exit(0);
        }
        sys_exit(g > 0 ? g & 0xff : 255);
    }
    int status = -1;
    sys_waitpid(d, &status);
    long last = sys_kstat(KSTAT_LAST_PID);
    int g = int(last);                     // the grandchild was the last fork, and is in range
    procinfo i{};
    int r = until_state(g, PS_ZOMBIE, &i);
    expect(r == 0 && (g & 0xff) == status && i.ppid == 1 && i.state == PS_ZOMBIE,
           "an orphan: re-parented to process 1, a zombie until reaped", r, i);
    expect(sys_waitpid(g, nullptr) == g, "process 1 reaps the orphan", 0, i);
    r = sys_procinfo(g, &i);
    expect(r == -ESRCH, "the reaped orphan: -ESRCH", r, i);
}
}

int main(int argc, char**) {
    if (argc > 1) {
        dprintf(2, "usage: procinfo\n");
        return 2;
    }
    check_self();
    check_nobody();
    check_child_life();
    check_orphan();
    procinfo i{};
    expect(sys_procinfo(sys_getpid(), nullptr) == -EFAULT, "a NULL info pointer: -EFAULT", 0, i);
    if (failures) {
        printf("procinfo: FAILED: %d of %d checks\n", failures, checks);
        return 1;
    }
    printf("procinfo: PASS: all %d checks\n", checks);
    return 0;
}
