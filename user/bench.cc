// user/bench.cc: `bench [quick|full] [SECONDS]`: the measurements behind
// `make bench` (tools/bench.py boots this at several NCPU and aggregates).
//
// Processes share no memory, so every measuring process prints its own
// result as one console line, `BENCH {json}`, and the host adds them up.
// Every measurement is repeated (quick: 3 reps, full: 5), interleaved
// (rep 0 of everything, then rep 1, ...) so host noise spreads evenly.
//
// Measurements (name field), SECONDS (default 1, may be "0.5") each:
//  read      one reader per CPU, pinned, calling sys_lsread(scheme, len)
//            flat out; len 8 (short) and 10000 (full), every scheme.
//  read + writer=1: the same with one extra writer process calling
//            sys_lswrite(scheme, buf, 8) flat out, pinned to the LAST CPU:
//            it time-shares that CPU with the reader there (at NCPU=1, with
//            the only reader). So every scheme sees the same CPU sharing
//            and only the synchronization differs. The writer prints its
//            own rate (name "write").
//  getpid / getppid: one pinned process per CPU making the null call and
//            the RCU-read call.
//  storm     LS_RCU writers on every CPU flat out; each tracks the lowest
//            free-page count it saw; "storm-summary" gives the callback
//            backlog high-water mark and memory before/after rcu_barrier.
//  sync-latency, exp-latency (+ -busy): printed by the kernel
//            (kernel/ktest/ktest_bench.cc): grace-period latency, idle, with
//            user processes spinning on the other CPUs ("user"), and with
//            kernel RCU readers there ("kreaders").
//  lock-cost the kernel's own read-side entry/exit costs.
// A scheme whose sys_lsread returns -EINVAL is reported as "unavailable".
#include "ulib.hh"

namespace {
constexpr int WRITE_LEN = 8;
uint64_t run_ns = 1000000000;   // per measurement
int reps = 3;
bool full_mode = false;
int ncpu = 1;
bool available[LS_NSCHEMES];
int failures = 0;

enum kind { READ, GETPID, GETPPID };
const char* kind_name(kind k) { return k == READ ? "read" : k == GETPID ? "getpid" : "getppid"; }

// parse_seconds("1.5") -> ns; 0 if malformed.
uint64_t parse_seconds(const char* s) {
    uint64_t whole = 0, frac = 0, scale = 1000000000;
    const char* p = s;
    if (!*p) return 0;
    for (; *p >= '0' && *p <= '9'; ++p) whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (++p; *p >= '0' && *p <= '9'; ++p) {
            scale /= 10;
            frac += (*p - '0') * scale;
        }
    }
    if (*p || whole > 60) return 0;
    return whole * 1000000000 + frac;
}

// pin_and_wait(cpu, start): move to `cpu` and spin until the common start
// time, so all the measuring processes run over the same interval.
void pin_and_wait(int cpu, uint64_t start) {
    if (sys_setcpu(cpu) < 0) die("setcpu(%d) failed", cpu);
    while (sys_clock_ns() < start) {}
}

// One pinned process making `k` calls for run_ns; prints its BENCH line.
[[noreturn]] void measure_child(kind k, int scheme, int len, int cpu, int writer, int rep,
                                uint64_t start, int parent_pid) {
    pin_and_wait(cpu, start);
    const int batch = k == READ && len > 1000 ? 4 : 128;
    uint64_t ops = 0;
    long errors = 0;
    uint64_t t0 = sys_clock_ns(), end = t0 + run_ns, t;
    do {
        for (int j = 0; j < batch; ++j) {
            if (k == READ) errors += sys_lsread(scheme, len) < 0;
            else if (k == GETPID) errors += sys_getpid() <= 0;
            else errors += sys_getppid() != parent_pid;
        }
        ops += batch;
        t = sys_clock_ns();
    } while (t < end);
    uint64_t ns = t - t0;
    printf("BENCH {\"name\":\"%s\",\"scheme\":\"%s\",\"ncpu\":%d,\"cpu\":%d,\"rep\":%d,"
           "\"len\":%d,\"writer\":%d,\"ops\":%lu,\"ns\":%lu,\"ops_per_sec\":%lu,"
           "\"ns_per_op\":%lu,\"errors\":%ld}\n",
           kind_name(k), k == READ ? ls_scheme_name(scheme) : "-", ncpu, sys_getcpu(), rep,
           k == READ ? len : 0, writer, ops, ns, ops * 1000000000 / ns, ns / ops, errors);
    sys_exit(errors ? 1 : 0);
}

// A writer: sys_lswrite(scheme, 8 changing bytes) flat out for run_ns.
// `storm`: also track the lowest free-page count seen.
[[noreturn]] void writer_child(const char* name, int scheme, int cpu, int readers_len, int rep,
                               uint64_t start) {
    pin_and_wait(cpu, start);
    char buf[WRITE_LEN];
    uint64_t ops = 0;
    long errors = 0, min_free = sys_kstat(KSTAT_FREE_PAGES);
    uint64_t t0 = sys_clock_ns(), end = t0 + run_ns, t;
    do {
        for (int j = 0; j < 16; ++j) {
            uint64_t v = ops + j;
            memcpy(buf, &v, sizeof buf);
            errors += sys_lswrite(scheme, buf, WRITE_LEN) != 0;
        }
        ops += 16;
        long f = sys_kstat(KSTAT_FREE_PAGES);
        if (f < min_free) min_free = f;
        t = sys_clock_ns();
    } while (t < end);
    uint64_t ns = t - t0;
    printf("BENCH {\"name\":\"%s\",\"scheme\":\"%s\",\"ncpu\":%d,\"cpu\":%d,\"rep\":%d,"
           "\"len\":%d,\"wlen\":%d,\"ops\":%lu,\"ns\":%lu,\"ops_per_sec\":%lu,\"ns_per_op\":%lu,"
           "\"min_free_pages\":%ld,\"errors\":%ld}\n",
           name, ls_scheme_name(scheme), ncpu, sys_getcpu(), rep, readers_len, WRITE_LEN, ops, ns,
           ops * 1000000000 / ns, ns / ops, min_free, errors);
    sys_exit(errors ? 1 : 0);
}

// wait_all(n): reap n children; count the ones that failed.
void wait_all(int n, const char* what) {
    for (int i = 0; i < n; ++i) {
        int status = 0;
        if (sys_waitpid(0, &status) < 0) die("waitpid: no child (%s)", what);
        if (status != 0) {
            dprintf(2, "bench: a %s process exited with status %d\n", what, status);
            ++failures;
        }
    }
}

uint64_t start_time() { return sys_clock_ns() + 30000000 + uint64_t(ncpu) * 10000000; }

// fork_or_die(): fork; the parent gets the child's pid.
int fork_or_die() {
    int pid = sys_fork();
    if (pid < 0) die("fork: %d", pid);
    return pid;
}

// group(k, scheme, len, writer, rep): one reader per CPU (+ the writer).
void group(kind k, int scheme, int len, bool writer, int rep) {
    uint64_t start = start_time();
    int me = sys_getpid();
    for (int cpu = 0; cpu < ncpu; ++cpu) {
        if (fork_or_die() == 0) measure_child(k, scheme, len, cpu, writer, rep, start, me);
    }
    if (writer && fork_or_die() == 0) writer_child("write", scheme, ncpu - 1, len, rep, start);
    wait_all(ncpu + writer, kind_name(k));
}

// storm(rep): LS_RCU writers on every CPU; callback backlog and memory.
void storm(int rep) {
    long free0 = sys_kstat(KSTAT_FREE_PAGES), heap0 = sys_kstat(KSTAT_HEAP_BYTES);
    long high0 = sys_kstat(KSTAT_RCU_CB_HIGH);
    uint64_t start = start_time();
    for (int cpu = 0; cpu < ncpu; ++cpu) {
        if (fork_or_die() == 0) writer_child("storm", LS_RCU, cpu, 0, rep, start);
    }
    wait_all(ncpu, "storm");
    long pending = sys_kstat(KSTAT_RCU_CB_PENDING), high = sys_kstat(KSTAT_RCU_CB_HIGH);
    long free1 = sys_kstat(KSTAT_FREE_PAGES);
    if (sys_ktest("rcu-barrier") < 0) ++failures;
    long free2 = sys_kstat(KSTAT_FREE_PAGES), heap2 = sys_kstat(KSTAT_HEAP_BYTES);
    printf("BENCH {\"name\":\"storm-summary\",\"scheme\":\"rcu\",\"ncpu\":%d,\"rep\":%d,"
           "\"cb_high_before\":%ld,\"cb_high\":%ld,\"cb_pending_after\":%ld,"
           "\"free_pages_before\":%ld,\"free_pages_after\":%ld,\"free_pages_after_barrier\":%ld,"
           "\"heap_bytes_before\":%ld,\"heap_bytes_after_barrier\":%ld}\n",
           ncpu, rep, high0, high, pending, free0, free1, free2, heap0, heap2);
}

// user_spinners(): pinned processes on CPUs 1..n-1 making getppid calls
// (short RCU read sections in the kernel) for `ns`; returns how many.
int user_spinners(uint64_t ns) {
    for (int cpu = 1; cpu < ncpu; ++cpu) {
        if (fork_or_die() == 0) {
            if (sys_setcpu(cpu) < 0) die("setcpu(%d) failed", cpu);
            uint64_t end = sys_clock_ns() + ns;
            while (sys_clock_ns() < end) {
                for (int j = 0; j < 64; ++j) sys_getppid();
            }
            sys_exit(0);
        }
    }
    return ncpu - 1;
}

// latency(): grace-period latency, measured by the kernel from CPU 0.
void latency() {
    if (sys_setcpu(0) < 0) die("setcpu(0) failed");
    const char* tests[] = {"sync-latency", "exp-latency", "sync-latency-busy", "exp-latency-busy"};
    for (const char* t : tests) {
        if (sys_ktest(t, 200) < 0) ++failures;
    }
    if (ncpu > 1) {                     // other CPUs busy with user processes
        const char* plain[] = {"sync-latency", "exp-latency"};
        for (const char* t : plain) {
            int n = user_spinners(1300000000);
            sys_msleep(30);
            if (sys_ktest(t, 200) < 0) ++failures;
            wait_all(n, "spinner");
        }
    }
    if (sys_ktest("lock-cost", 1000000) < 0) ++failures;
    sys_setcpu(-1);
}

[[noreturn]] void usage() {
    dprintf(2, "usage: bench [quick|full] [SECONDS]   (quick: 3 reps, full: 5 reps and\n"
               "       writer runs with full reads too; SECONDS per measurement, default 1)\n");
    sys_exit(2);
}
}

int main(int argc, char** argv) {
    if (argc > 3) usage();
    if (argc > 1) {
        if (strcmp(argv[1], "full") == 0) full_mode = true;
        else if (strcmp(argv[1], "quick") != 0) usage();
    }
    if (argc > 2 && !(run_ns = parse_seconds(argv[2]))) usage();
    reps = full_mode ? 5 : 3;
    ncpu = sys_ncpu();
    printf("BENCH {\"name\":\"config\",\"ncpu\":%d,\"reps\":%d,\"run_ms\":%lu,\"mode\":\"%s\","
           "\"hz\":%ld}\n", ncpu, reps, run_ns / 1000000, full_mode ? "full" : "quick",
           sys_kstat(KSTAT_HZ));
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        available[s] = sys_lsread(s, 8) != -EINVAL;
        if (!available[s]) {
            printf("bench: scheme %s is not available yet (sys_lsread: -EINVAL): skipped\n",
                   ls_scheme_name(s));
            printf("BENCH {\"name\":\"unavailable\",\"scheme\":\"%s\",\"ncpu\":%d}\n",
                   ls_scheme_name(s), ncpu);
        }
    }
    for (int rep = 0; rep < reps; ++rep) {
        printf("bench: rep %d/%d on %d CPUs\n", rep + 1, reps, ncpu);
        storm(rep);
        for (int s = 0; s < LS_NSCHEMES; ++s) {
            if (!available[s]) continue;
            group(READ, s, 8, false, rep);
            group(READ, s, int(LS_SIZE), false, rep);
            group(READ, s, 8, true, rep);
            if (full_mode) group(READ, s, int(LS_SIZE), true, rep);
        }
        group(GETPID, 0, 0, false, rep);
        group(GETPPID, 0, 0, false, rep);
        latency();
    }
    printf("bench: done, %d failed measurement(s)\n", failures);
    return failures ? 1 : 0;
}
