// host/bench/host_bench.cc: `host_bench [--seconds S] [--reps N] [--threads 1,2]
// [--only NAME,...] [--list]`: reads and writes of a largestruct measured
// natively, side by side, for every implementation: each Grace scheme of
// LS_SCHEMES (its own kernel/ls read and write, on the host port), liburcu's
// qsbr and memb flavors, pthread_rwlock, and an empty read (the cost of the
// loop and the call: the physical limit).
//
// One measurement: T reader threads (pinned to host CPUs 0..T-1) read the
// first `len` bytes (8 or LS_SIZE) flat out for S seconds, each counting
// its reads, optionally with one writer (8-byte writes flat out) pinned to
// the last host CPU. Every reader runs the same loop: 1024 reads through
// the implementation's read pointer, then its quiescent point (QSBR
// flavors only). Each measuring thread prints its own line
//     BENCH {"name": "read"|"write", "scheme": ..., "ncpu": T, "len": ...,
//            "writer": 0|1, "rep": r, "ops_per_sec": ..., ...}
// and tools/host_bench.py adds them up. The reps are interleaved: each rep
// measures every configuration and implementation once, in an order that
// rotates from rep to rep, so the host's noise spreads over all of them.
#include "port.hh"
#include "ls/ls.hh"
#include "bench.hh"
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

void ls_init();

namespace {
// ---- Grace's schemes: their own read and write, on CPUs of the port ----
void grace_begin() { host_cpu_attach(); }
void grace_end() { host_cpu_detach(); }
// grace_settle(): every scheme reclaims what waits (rcu_barrier for LS_RCU).
void grace_settle() {
    host_cpu_guard cpu;
    for (int id = 0; id < LS_NSCHEMES; ++id) {
        if (const ls_scheme* s = ls_find(id); s && s->settle) s->settle();
    }
}

// ---- pthread_rwlock: one struct, written in place ----
pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
char rw_struct[LS_SIZE];
long rw_read(size_t len) {
    pthread_rwlock_rdlock(&rw);
    long sum = long(ls_checksum(rw_struct, len));
    pthread_rwlock_unlock(&rw);
    return sum;
}
long rw_write(const char* data, size_t len) {
    pthread_rwlock_wrlock(&rw);
    memcpy(rw_struct, data, len);
    pthread_rwlock_unlock(&rw);
    return 0;
}

// ---- the empty read: the loop and the indirect call alone ----
long empty_read(size_t) { return 0; }

// implementations(): everything host_bench measures, in the order the
// tables list them: LS_SCHEMES's schemes, then liburcu, the lock, the limit.
std::vector<bench_impl> implementations() {
    std::vector<bench_impl> v;
    for (const ls_scheme_entry& e : LS_SCHEME_TABLE) {
        const ls_scheme* s = ls_find(e.number);
        v.push_back({e.name, "grace", grace_begin, grace_end, s->read, s->write, host_quiescent_state,
                     grace_settle});
    }
    v.push_back(urcu_qsbr_impl);
    v.push_back(urcu_memb_impl);
    v.push_back({"pthread-rwlock", "lock", nullptr, nullptr, rw_read, rw_write, nullptr, nullptr});
    v.push_back({"empty", "limit", nullptr, nullptr, empty_read, nullptr, nullptr, nullptr});
    return v;
}

// now(): seconds on the monotonic clock.
double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// pin(cpu): the calling thread runs on host CPU `cpu` only.
void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// The host CPUs this process may run on, in order.
std::vector<int> host_cpus() {
    cpu_set_t set;
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
        }
    }
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

struct config {
    size_t len;
    int threads;
    bool writer;
};

// One thread's count, printed as a BENCH line.
struct tally {
    const char* what;
    int cpu;
    uint64_t ops = 0;
    double seconds = 0;
};

volatile long sink;

// measure(im, c, rep, seconds, cpus): one measurement (see the top).
void measure(const bench_impl& im, const config& c, int rep, double seconds, const std::vector<int>& cpus) {
    static const std::string data(LS_SIZE, 'w');
    int nthreads = c.threads + (c.writer ? 1 : 0);
    std::vector<tally> tallies(nthreads);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false}, stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < nthreads; ++i) {
        bool writing = i == c.threads;
        tallies[i] = {writing ? "write" : "read", writing ? cpus.back() : cpus[i]};
        threads.emplace_back([&, i, writing] {
            tally& t = tallies[i];
            pin(t.cpu);
            if (im.thread_begin) im.thread_begin();
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) sched_yield();
            double t0 = now();
            long local = 0;
            do {                            // at least once: every thread reports a rate
                if (writing) {
                    im.write(data.data(), 8);
                    ++t.ops;
                } else {
                    for (int k = 0; k < 1024; ++k) local += im.read(c.len);
                    t.ops += 1024;
                }
                if (im.quiescent) im.quiescent();
            } while (!stop.load(std::memory_order_relaxed));
            t.seconds = now() - t0;
            sink = local;
            if (im.thread_end) im.thread_end();
        });
    }
    while (ready.load() < nthreads) sched_yield();
    go.store(true, std::memory_order_release);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop.store(true);
    for (auto& t : threads) t.join();
    if (c.writer && im.settle) im.settle();
    for (const tally& t : tallies) {
        printf("BENCH {\"name\": \"%s\", \"scheme\": \"%s\", \"kind\": \"%s\", \"ncpu\": %d, \"len\": %zu, "
               "\"writer\": %d, \"rep\": %d, \"cpu\": %d, \"ops\": %lu, \"seconds\": %.6f, "
               "\"ops_per_sec\": %.1f}\n", t.what, im.name, im.kind, c.threads, c.len, int(c.writer), rep,
               t.cpu, t.ops, t.seconds, t.seconds > 0 ? double(t.ops) / t.seconds : 0.0);
    }
    fflush(stdout);
}

// split(s): the comma-separated words of s.
std::vector<std::string> split(const char* s) {
    std::vector<std::string> out;
    std::string cur;
    for (; *s; ++s) {
        if (*s == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += *s;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

[[noreturn]] void usage() {
    fprintf(stderr, "usage: host_bench [--seconds S] [--reps N] [--threads 1,2] [--only NAME,...] [--list]\n");
    exit(2);
}
}

int main(int argc, char** argv) {
    double seconds = 0.3;
    int reps = 3;
    std::vector<int> thread_counts;
    std::vector<std::string> only;
    bool list = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--list") list = true;
        else if (a == "--seconds" && v) seconds = atof(argv[++i]);
        else if (a == "--reps" && v) reps = atoi(argv[++i]);
        else if (a == "--threads" && v) for (auto& t : split(argv[++i])) thread_counts.push_back(atoi(t.c_str()));
        else if (a == "--only" && v) only = split(argv[++i]);
        else usage();
    }
    std::vector<int> cpus = host_cpus();
    if (thread_counts.empty()) {
        thread_counts.push_back(1);
        if (cpus.size() > 1) thread_counts.push_back(2);
    }
    if (!(seconds > 0 && seconds <= 60) || reps < 1) usage();
    for (int t : thread_counts) {
        if (t < 1 || size_t(t) > cpus.size()) {
            fprintf(stderr, "host_bench: %d threads, but this process may run on %zu host CPUs\n", t, cpus.size());
            return 2;
        }
    }
    {
        host_cpu_guard cpu;
        ls_init();
    }
    std::vector<bench_impl> impls;
    for (const bench_impl& im : implementations()) {
        bool wanted = only.empty();
        for (const std::string& o : only) wanted |= o == im.name;
        if (wanted) impls.push_back(im);
    }
    if (list || impls.empty()) {
        for (const bench_impl& im : implementations()) printf("%s %s\n", im.name, im.kind);
        return list ? 0 : 2;
    }
    printf("BENCH {\"name\": \"config\", \"source\": \"host\", \"reps\": %d, \"run_ms\": %.0f, "
           "\"host_cpus\": %zu, \"writer_cpu\": %d}\n", reps, seconds * 1000, cpus.size(), cpus.back());
    std::vector<config> configs;
    for (size_t len : {size_t(8), LS_SIZE}) {
        for (int t : thread_counts) {
            for (bool w : {false, true}) configs.push_back({len, t, w});
        }
    }
    for (int rep = 0; rep < reps; ++rep) {
        for (const config& c : configs) {
            for (size_t k = 0; k < impls.size(); ++k) {
                const bench_impl& im = impls[(k + rep) % impls.size()];
                if (c.writer && !im.write) continue;
                measure(im, c, rep, seconds, cpus);
            }
        }
    }
    return 0;
}
