// tools/linux-peer/syscalls.c: the Linux side of `make bench-linux`.
//
// Built static and booted as /init (the only program in an initramfs) under
// Debian's stock Linux kernel, in the QEMU machine Grace runs in. It times
// getpid (the null system call) and getppid (which Linux, like Grace,
// answers inside an RCU read-side section) exactly the way user/bench.cc
// times them under Grace: one process pinned to each CPU, all starting at
// one moment, each calling flat out for SECONDS in batches of 128 and
// checking every result, each printing its own line
//
//   LINUXPEER {"name":"getpid","ncpu":N,"cpu":C,"rep":R,"ops":...,
//              "ns":...,"ops_per_sec":...,"ns_per_op":...,"errors":E}
//
// REPS times, the two calls interleaved (rep 0 of both, then rep 1, ...).
// It then prints `LINUXPEER {"name":"done",...}` and, as process 1, powers
// the machine off (run by hand on a host, it only exits).
//
// Usage (the kernel passes what follows `--` on its command line):
//   /init [SECONDS [REPS]]     defaults 1 and 3; SECONDS may be "0.5"
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 128 };

// now_ns(): the monotonic clock, the same on every CPU.
static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// say(fmt, ...): one console line in one write, so that lines printed by
// processes on different CPUs never interleave.
static void say(const char* fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    if (write(1, line, (size_t)n) < 0) _exit(3);
}

// parse_seconds("1.5"): nanoseconds, or 0 when malformed or above 60 s.
static uint64_t parse_seconds(const char* s) {
    char* end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 60) return 0;
    return (uint64_t)(v * 1e9);
}

// measure(call, cpu, rep, start, run_ns, parent): in a forked child: pin to
// `cpu`, wait for `start`, make `call` flat out for run_ns, print the line.
static void measure(const char* name, long call, int ncpu, int cpu, int rep,
                    uint64_t start, uint64_t run_ns, pid_t parent) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0 || sched_getcpu() != cpu) {
        say("LINUXPEER-ERROR cannot pin to cpu %d", cpu);
        _exit(1);
    }
    pid_t me = getpid();
    long expect = call == SYS_getpid ? (long)me : (long)parent;
    while (now_ns() < start) {}
    uint64_t ops = 0, errors = 0, t0 = now_ns(), end = t0 + run_ns, t;
    do {
        for (int j = 0; j < BATCH; ++j) errors += syscall(call) != expect;
        ops += BATCH;
        t = now_ns();
    } while (t < end);
    uint64_t ns = t - t0;
    say("LINUXPEER {\"name\":\"%s\",\"ncpu\":%d,\"cpu\":%d,\"rep\":%d,\"ops\":%llu,"
        "\"ns\":%llu,\"ops_per_sec\":%llu,\"ns_per_op\":%llu,\"errors\":%llu}",
        name, ncpu, cpu, rep, (unsigned long long)ops, (unsigned long long)ns,
        (unsigned long long)(ops * 1000000000u / ns), (unsigned long long)(ns / ops),
        (unsigned long long)errors);
    _exit(errors ? 1 : 0);
}

// group(call, ...): one measuring process per CPU; the number that failed.
static int group(const char* name, long call, const int* cpus, int ncpu, int rep,
                 uint64_t run_ns) {
    uint64_t start = now_ns() + 30000000u + (uint64_t)ncpu * 10000000u;
    pid_t parent = getpid();
    int failed = 0;
    for (int i = 0; i < ncpu; ++i) {
        pid_t pid = fork();
        if (pid == 0) measure(name, call, ncpu, cpus[i], rep, start, run_ns, parent);
        if (pid < 0) ++failed;
    }
    int status;
    while (wait(&status) > 0) failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}

int main(int argc, char** argv) {
    uint64_t run_ns = argc > 1 ? parse_seconds(argv[1]) : 1000000000u;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    int failed = 0;
    if (run_ns == 0 || reps < 1 || reps > 20) {
        say("LINUXPEER-ERROR usage: init [SECONDS (0-60]] [REPS 1-20]");
        failed = 1;
        reps = 0;
    }
    // The CPUs the kernel runs: init may run on all of them.
    cpu_set_t all;
    int cpus[CPU_SETSIZE], ncpu = 0;
    if (sched_getaffinity(0, sizeof all, &all) != 0) CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &all)) cpus[ncpu++] = c;
    struct utsname u;
    uname(&u);
    say("LINUXPEER {\"name\":\"config\",\"ncpu\":%d,\"reps\":%d,\"run_ms\":%llu,"
        "\"kernel\":\"%s\"}", ncpu, reps, (unsigned long long)(run_ns / 1000000), u.release);
    for (int rep = 0; rep < reps; ++rep) {
        failed += group("getpid", SYS_getpid, cpus, ncpu, rep, run_ns);
        failed += group("getppid", SYS_getppid, cpus, ncpu, rep, run_ns);
    }
    say("LINUXPEER {\"name\":\"done\",\"ncpu\":%d,\"failed\":%d}", ncpu, failed);
    if (getpid() != 1) return failed != 0;   // run by hand: never power a host off
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
