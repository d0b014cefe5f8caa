// kernel/ktest/ktest_bench.cc: kernel-side measurements for `make bench`
// (user/bench.cc runs them through sys_ktest; tools/bench.py reads the
// results). Each test prints one machine-readable console line
//   BENCH {"name":..., ...}
// and returns a non-negative number on success (the median, in ns, for the
// latency tests).
//
//  sync-latency N        time N calls of synchronize_rcu (clock_ns before
//  exp-latency N         and after each) with whatever else is running;
//                        reports min, median, 90th percentile and max.
//  sync-latency-busy N   the same while a pinned kernel thread on every
//  exp-latency-busy N    other CPU runs RCU read sections back to back
//                        (full LS_RCU reads), so each grace period must
//                        wait for a tick-driven (or IPI-driven) reschedule.
//  lock-cost N           ns per rcu_read_lock+unlock, preempt_disable+
//                        enable, spinlock and rwlock read lock+unlock pairs,
//                        and per trace point (kernel/trace.hh: off, unless
//                        booted with trace=...), against an empty loop, N
//                        iterations each (in ps so the integer-only printf
//                        keeps the precision).
// A latency run stops early after one second of measuring, so a slow host
// cannot stretch it without bound; `n` in the output says how many ran.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "ls/ls.hh"
#include "rwlock.hh"
#include "trace.hh"

namespace {
constexpr long MAX_SAMPLES = 20000;
constexpr uint64_t MAX_MEASURE_NS = 1000000000UL;

// sort_u64(a, n): ascending, in place (Shell sort: no recursion, no libc).
void sort_u64(uint64_t* a, long n) {
    for (long gap = n / 2; gap > 0; gap /= 2) {
        for (long i = gap; i < n; ++i) {
            uint64_t v = a[i];
            long j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

// Busy readers: one pinned kernel thread per other CPU, each running full
// LS_RCU reads (one read section each) until `stop_readers` is set.
std::atomic<bool> stop_readers{false};
std::atomic<long> reader_sections{0};

void busy_reader(void*) {
    const ls_scheme* rcu_scheme = ls_find(LS_RCU);
    long n = 0;
    while (!stop_readers.load(std::memory_order_relaxed)) {
        (void) rcu_scheme->read(LS_SIZE);
        ++n;
    }
    reader_sections.fetch_add(n);
    proc_exit(0);
}

// start_busy_readers(threads): returns how many were started (all CPUs but
// the caller's). The caller must be pinned, or it may land on their CPUs.
int start_busy_readers(proc** threads) {
    stop_readers.store(false);
    reader_sections.store(0);
    int me = this_cpu_index();
    int started = 0;
    for (int i = 0; i < ncpu; ++i) {
        if (i == me) continue;
        proc* p = kthread_create("bench-reader", busy_reader, nullptr);
        assert(p);
        p->pinned = i;
        p->home_cpu = i;
        enqueue_new(p);
        threads[started++] = p;
    }
    return started;
}

void stop_busy_readers(proc** threads, int n) {
    stop_readers.store(true);
    for (int i = 0; i < n; ++i) kthread_join(threads[i]);
}

// other_cpus_busy(): CPUs other than the caller's running a non-idle task.
int other_cpus_busy() {
    irq_guard g;
    int me = this_cpu()->index, busy = 0;
    for (int i = 0; i < ncpu; ++i) {
        proc* p = __atomic_load_n(&cpus[i].current, __ATOMIC_RELAXED);
        if (i != me && p && !p->is_idle) ++busy;
    }
    return busy;
}

// grace_period_latency(name, expedited, with_readers, iterations): the
// sync-latency / exp-latency family. Returns the median in ns.
long grace_period_latency(const char* name, bool expedited, bool with_readers, long iterations) {
    assert(iterations > 0);                   // run_ktest gives the default for <= 0
    if (iterations > MAX_SAMPLES) iterations = MAX_SAMPLES;
    auto* samples = static_cast<uint64_t*>(kmalloc(iterations * sizeof(uint64_t)));
    if (!samples) return -ENOMEM;
    proc* threads[MAXCPU];
    int nthreads = with_readers ? start_busy_readers(threads) : 0;
    if (with_readers) msleep(5);              // let the readers get going
    int busy = other_cpus_busy();
    uint64_t gp_before = rcu_completed_gp();
    uint64_t begin = clock_ns();
    long n = 0;
    while (n < iterations && clock_ns() - begin < MAX_MEASURE_NS) {
        uint64_t t0 = clock_ns();
        if (expedited) synchronize_rcu_expedited(); else synchronize_rcu();
        samples[n++] = clock_ns() - t0;
    }
    uint64_t gps = rcu_completed_gp() - gp_before;
    if (with_readers) stop_busy_readers(threads, nthreads);
    sort_u64(samples, n);
    uint64_t median = samples[(n - 1) / 2];
    uint64_t p90 = samples[(n - 1) * 9 / 10];
    const char* load = with_readers ? "kreaders" : busy ? "user" : "idle";
    console_printf("BENCH {\"name\":\"%s\",\"ncpu\":%d,\"load\":\"%s\",\"busy_cpus\":%d,"
                   "\"n\":%ld,\"min_ns\":%lu,\"median_ns\":%lu,\"p90_ns\":%lu,\"max_ns\":%lu,"
                   "\"gps\":%lu,\"hz\":%u,\"reader_sections\":%ld}\n",
                   name, ncpu, load, busy, n, samples[0], median, p90, samples[n - 1],
                   gps, kopts.hz, with_readers ? reader_sections.load() : 0L);
    kfree(samples);
    return long(median);
}
KTEST("sync-latency", [](long n) { return grace_period_latency("sync-latency", false, false, n); }, 200,
      "benchmark: ARG timed synchronize_rcu calls");
KTEST("exp-latency", [](long n) { return grace_period_latency("exp-latency", true, false, n); }, 200,
      "benchmark: ARG timed synchronize_rcu_expedited calls");
KTEST("sync-latency-busy", [](long n) { return grace_period_latency("sync-latency-busy", false, true, n); },
      200, "benchmark: sync-latency with kernel readers busy on every other CPU");
KTEST("exp-latency-busy", [](long n) { return grace_period_latency("exp-latency-busy", true, true, n); },
      200, "benchmark: exp-latency with kernel readers busy on every other CPU");

// time_loop(iterations, body): ns for `iterations` runs of body().
template <typename F>
uint64_t time_loop(long iterations, F body) {
    uint64_t t0 = clock_ns();
    for (long i = 0; i < iterations; ++i) {
        body();
        asm volatile("" ::: "memory");       // keep the loop a loop
    }
    return clock_ns() - t0;
}

// lock_cost(iterations): the raw price of entering and leaving each kind
// of read-side section on this CPU, uncontended.
long lock_cost(long iterations) {
    assert(iterations > 0);
    spinlock sl{"ktest.bench"};
    rwlock rw;
    uint64_t empty = time_loop(iterations, [] {});
    uint64_t rcu = time_loop(iterations, [] { rcu_read_lock(); rcu_read_unlock(); });
    uint64_t pre = time_loop(iterations, [] { preempt_disable(); preempt_enable(); });
    uint64_t spin = time_loop(iterations, [&] { sl.lock(); sl.unlock(); });
    uint64_t rwl = time_loop(iterations, [&] { rw.lock_shared(); rw.unlock_shared(); });
    uint64_t tp = time_loop(iterations, [] { TRACE(mark, 0); });
    auto ps = [&](uint64_t ns) { return ns * 1000 / uint64_t(iterations); };
    console_printf("BENCH {\"name\":\"lock-cost\",\"ncpu\":%d,\"n\":%ld,\"empty_ps\":%lu,"
                   "\"rcu_ps\":%lu,\"preempt_ps\":%lu,\"spinlock_ps\":%lu,\"rwlock_read_ps\":%lu,"
                   "\"trace_point_ps\":%lu}\n",
                   ncpu, iterations, ps(empty), ps(rcu), ps(pre), ps(spin), ps(rwl), ps(tp));
    return long(ps(rcu));
}
KTEST("lock-cost", lock_cost, 1000000, "benchmark: ps per read-side lock+unlock of each kind, ARG times");
}
