// user/gpstuck.cc: `gpstuck [MS]` (default 3000): grace periods end and
// callbacks run, whatever the CPUs are doing. Needs 2 CPUs or more.
//
// Busy CPUs. On each CPU 1..n-1 a child looks at every process there is
// (sys_procinfo of pids 1 up to one past the last, which is gone), then
// spins in user mode for MS milliseconds, entering the kernel only to
// read the clock. Meanwhile, on CPU 0, this process replaces the
// largestruct under RCU (LS_RCU: the old copy is freed by call_rcu) and
// waits for the grace period that write asks for, GP_ROUNDS times in a
// row (so the last ones surely start after the children began to spin).
// They must complete while the children still spin: a CPU running user
// code holds no read section, and each of its timer ticks reports it
// quiescent.
//
// Idle CPUs. This process then moves to each CPU 1..n-1 in turn, replaces
// the struct there once and leaves the CPU idle, so the last CPU's list
// holds exactly one callback, the last one anybody queues (the busy part
// queued all of its callbacks on CPU 0), waiting for a grace period that
// nothing after it asks for. From CPU 0 it waits for the callbacks:
// within MS milliseconds none may be pending, as an idle CPU runs its own
// ready callbacks once their grace period has ended.
//
// Prints "gpstuck: busy CPUs: ok", "gpstuck: idle CPUs: ok" and
// "gpstuck: PASS", or says which part FAILED and what it saw; exits 0 on
// PASS.
#include "ulib.hh"

namespace {
constexpr int GP_ROUNDS = 3;

char buf[LS_SIZE];

// replace(round): one LS_RCU write; its old struct goes to call_rcu.
void replace(int round) {
    for (size_t i = 0; i < sizeof(buf); ++i) buf[i] = char('a' + (round + i) % 26);
    long r = sys_lswrite(LS_RCU, buf, sizeof(buf));
    if (r < 0) die("lswrite(LS_RCU): %ld", r);
}

// spinner(until): look at every process, then spin in user mode until
// the clock passes `until`.
[[noreturn]] void spinner(int cpu, uint64_t until) {
    if (sys_setcpu(cpu) < 0) die("cannot pin to cpu %d", cpu);
    procinfo info;
    int seen = 0;
    long last = sys_kstat(KSTAT_LAST_PID);
    for (long pid = 1; pid <= last + 1; ++pid) {
        if (sys_procinfo(int(pid), &info) == 0) ++seen;
    }
    if (seen < 2) die("spinner on cpu %d saw %d processes", cpu, seen);
    uint64_t spins = 0, next_check = 0;
    while (true) {                        // user-mode work, the clock read rarely
        asm volatile("" : "+r"(spins));
        if (++spins >= next_check) {
            if (sys_clock_ns() > until) break;
            next_check = spins + 1000000;
        }
    }
    sys_exit(0);
}

// busy_cpus(n, ms): grace periods complete while CPUs 1..n-1 spin in user mode.
bool busy_cpus(int n, long ms) {
    uint64_t until = sys_clock_ns() + uint64_t(ms + 200) * 1000000;
    for (int cpu = 1; cpu < n; ++cpu) {
        int pid = sys_fork();
        if (pid < 0) die("fork: %d", pid);
        if (pid == 0) spinner(cpu, until);
    }
    sys_msleep(200);                      // the children look around, then spin
    int rounds = 0;
    for (; rounds < GP_ROUNDS; ++rounds) {
        long gp0 = sys_kstat(KSTAT_RCU_GP);
        replace(rounds);
        while (sys_kstat(KSTAT_RCU_GP) == gp0 && sys_clock_ns() < until) sys_msleep(5);
        if (sys_clock_ns() >= until) break;   // the children stopped spinning first
    }
    for (int cpu = 1; cpu < n; ++cpu) sys_waitpid(0, nullptr);
    bool ok = rounds == GP_ROUNDS;
    printf("gpstuck: busy CPUs: %d of %d grace periods completed while %d CPUs spun in "
           "user mode: %s\n", rounds, GP_ROUNDS, n - 1, ok ? "ok" : "FAILED");
    return ok;
}

// idle_cpus(n, ms): callbacks queued on CPUs 1..n-1 run once those CPUs idle.
bool idle_cpus(int n, long ms) {
    for (int cpu = 1; cpu < n; ++cpu) {
        if (sys_setcpu(cpu) < 0) die("cannot pin to cpu %d", cpu);
        replace(cpu);
    }
    if (sys_setcpu(0) < 0) die("cannot pin to cpu 0");
    uint64_t until = sys_clock_ns() + uint64_t(ms) * 1000000;
    long pending = sys_kstat(KSTAT_RCU_CB_PENDING);
    while (pending > 0 && sys_clock_ns() < until) {
        sys_msleep(10);
        pending = sys_kstat(KSTAT_RCU_CB_PENDING);
    }
    printf("gpstuck: idle CPUs: %ld callbacks pending, waited up to %ld ms: %s\n", pending, ms,
           pending == 0 ? "ok" : "FAILED");
    return pending == 0;
}
}

int main(int argc, char** argv) {
    long ms = argc > 1 ? atol_or(argv[1], -1) : 3000;
    int n = sys_ncpu();
    if (ms <= 0 || argc > 2 || n < 2) {
        dprintf(2, "usage: gpstuck [MS]   (on 2 CPUs or more)\n");
        return 2;
    }
    if (sys_setcpu(0) < 0) die("cannot pin to cpu 0");
    bool busy = busy_cpus(n, ms);
    bool idle = idle_cpus(n, ms);
    printf("gpstuck: %s\n", busy && idle ? "PASS" : "FAILED");
    return busy && idle ? 0 : 1;
}
