// kernel/ktest_locks.cc: self-tests for the spinlock and the reader-writer
// lock (kernel/spinlock.hh, kernel/rwlock.hh).
//
// rwlock-writer: readers on every other CPU take the lock shared back to
// back, so that some reader always holds it. A writer that waited for "no
// readers" would starve; the rwlock makes new readers wait once a writer is
// waiting, so every writer gets in within a bound. spinlock-count: every
// CPU increments a shared counter under the spinlock; none is lost.
#include "proc.hh"
#include "apic.hh"
#include "rwlock.hh"

namespace {
rwlock test_rw;
spinlock test_spin;
std::atomic<bool> stop{false};
uint64_t shared_value;                 // protected by test_rw / test_spin
std::atomic<uint64_t> reader_sections{0}, torn{0};

void rw_reader_fn(void*) {
    while (!stop.load(std::memory_order_relaxed)) {
        shared_guard g(test_rw);
        uint64_t a = shared_value;
        uint64_t end = clock_ns() + 20000;
        while (clock_ns() < end) cpu_relax();
        if (shared_value != a) torn.fetch_add(1);  // a writer got in: lock broken
        reader_sections.fetch_add(1, std::memory_order_relaxed);
    }
    proc_exit(0);
}

struct counter_arg { long iterations; };
void spin_counter_fn(void* arg) {
    long n = static_cast<counter_arg*>(arg)->iterations;
    for (long i = 0; i < n; ++i) {
        spinlock_guard g(test_spin);
        uint64_t v = shared_value;
        cpu_relax();
        shared_value = v + 1;
    }
    proc_exit(0);
}

long test_rwlock_writer(long writes) {
    if (ncpu < 2) return -EINVAL;
    stop = false;
    torn = 0;
    reader_sections = 0;
    int me = this_cpu_index();
    proc* readers[MAXCPU] = {};
    for (int i = 0; i < ncpu; ++i) {
        if (i != me) readers[i] = kthread_spawn_on(i, "rw-reader", rw_reader_fn, nullptr);
    }
    msleep(20);
    uint64_t worst = 0;
    for (long w = 0; w < writes; ++w) {
        uint64_t t0 = clock_ns();
        {
            exclusive_guard g(test_rw);
            ++shared_value;
        }
        worst = max(worst, clock_ns() - t0);
        msleep(1);
    }
    stop = true;
    for (proc* p : readers) if (p) kthread_join(p);
    bool ok = torn.load() == 0 && worst < 200000000UL && reader_sections.load() > 0;
    log_printf("ktest rwlock-writer: %ld writes, longest wait %lu us, %lu reader sections, "
               "%lu saw a write inside their section: %s", writes, worst / 1000,
               reader_sections.load(), torn.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}

long test_spinlock_count(long iterations) {
    shared_value = 0;
    counter_arg a{iterations};
    proc* t[MAXCPU];
    for (int i = 0; i < ncpu; ++i) t[i] = kthread_spawn_on(i, "spin-counter", spin_counter_fn, &a);
    for (int i = 0; i < ncpu; ++i) kthread_join(t[i]);
    bool ok = shared_value == uint64_t(iterations) * ncpu;
    log_printf("ktest spinlock-count: %lu of %lu increments: %s", shared_value,
               uint64_t(iterations) * ncpu, ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
}

long ktest_locks(const char* name, long arg) {
    if (strcmp(name, "rwlock-writer") == 0) return test_rwlock_writer(arg > 0 ? arg : 200);
    if (strcmp(name, "spinlock-count") == 0) return test_spinlock_count(arg > 0 ? arg : 100000);
    return -ENOENT;
}
