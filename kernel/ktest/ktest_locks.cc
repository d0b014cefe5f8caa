// kernel/ktest/ktest_locks.cc: self-tests for the spinlock and the reader-writer
// lock (kernel/spinlock.hh, kernel/rwlock.hh).
//
// rwlock-writer: readers on every other CPU take the lock shared back to
// back, so that some reader always holds it. A writer that waited for "no
// readers" would starve; the rwlock makes new readers wait once a writer is
// waiting. The test counts the reader sections that begin while a writer
// waits: only readers already on their way in (one per other CPU) may. It
// counts rather than times, and allows a tenth of the writes to be overtaken
// by more: the host may deschedule the writer's virtual CPU between its
// count and its announcement, and readers elsewhere go on meanwhile. A
// reader-preferring lock is overtaken on nearly every write (or starves
// the writer outright, and the test times out). spinlock-count: every
// CPU increments a shared counter under the spinlock; none is lost.
// rwlock-shared: readers on every CPU hold the lock for 20 us at a time and
// count how many are inside at once, while a writer checks that no reader
// is inside with it: readers must overlap (a lock that lets one reader in
// at a time fails) and a writer must be alone (a lock that lets everyone
// in fails).
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"
#include "rwlock.hh"

namespace {
rwlock test_rw;
spinlock test_spin{"ktest.test_spin"};
std::atomic<bool> stop{false};
uint64_t shared_value;                 // protected by test_rw / test_spin
std::atomic<uint64_t> reader_sections{0}, torn{0}, reader_entries{0};

void rw_reader_fn(void*) {
    while (!stop.load(std::memory_order_relaxed)) {
        shared_guard g(test_rw);
        reader_entries.fetch_add(1);
        uint64_t a = shared_value;
        uint64_t end = clock_ns() + 20000;
        while (clock_ns() < end) cpu_relax();
        if (shared_value != a) torn.fetch_add(1);  // a writer got in: lock broken
        reader_sections.fetch_add(1, std::memory_order_relaxed);
    }
    proc_exit(0);
}

std::atomic<int> readers_inside{0}, most_readers_inside{0};
std::atomic<bool> writer_inside{false};
std::atomic<uint64_t> writer_saw_readers{0}, reader_saw_writer{0};

void rw_sharing_reader_fn(void*) {
    while (!stop.load(std::memory_order_relaxed)) {
        shared_guard g(test_rw);
        int inside = readers_inside.fetch_add(1) + 1;
        int most = most_readers_inside.load();
        while (inside > most && !most_readers_inside.compare_exchange_weak(most, inside)) {}
        uint64_t end = clock_ns() + 20000;
        while (clock_ns() < end) {
            if (writer_inside.load(std::memory_order_relaxed)) reader_saw_writer.fetch_add(1);
            cpu_relax();
        }
        readers_inside.fetch_sub(1);
        reader_sections.fetch_add(1, std::memory_order_relaxed);
    }
    proc_exit(0);
}

// test_rwlock_shared(ms): readers on every CPU and a writer on this one for
// `ms` milliseconds; see the top of the file.
long test_rwlock_shared(long ms) {
    if (ncpu < 2) return -EINVAL;
    stop = false;
    reader_sections = 0;
    readers_inside = most_readers_inside = 0;
    writer_saw_readers = reader_saw_writer = 0;
    proc* readers[MAXCPU] = {};
    for (int i = 0; i < ncpu; ++i) {
        readers[i] = kthread_spawn_on(i, "rw-sharer", rw_sharing_reader_fn, nullptr);
    }
    uint64_t end = clock_ns() + uint64_t(ms) * 1000000, writes = 0;
    while (clock_ns() < end) {
        {
            exclusive_guard g(test_rw);
            writer_inside.store(true);
            for (int spin = 0; spin < 200; ++spin) {
                if (readers_inside.load(std::memory_order_relaxed) != 0) writer_saw_readers.fetch_add(1);
                cpu_relax();
            }
            writer_inside.store(false);
        }
        ++writes;
        msleep(1);
    }
    stop = true;
    for (proc* p : readers) if (p) kthread_join(p);
    bool ok = most_readers_inside.load() >= 2 && writer_saw_readers.load() == 0
        && reader_saw_writer.load() == 0 && writes > 0;
    log_printf("ktest rwlock-shared: %lu reader sections, at most %d readers inside at once "
               "(need 2+), %lu writes, %lu times a writer saw a reader, %lu times a reader "
               "saw a writer: %s", reader_sections.load(), most_readers_inside.load(), writes,
               writer_saw_readers.load(), reader_saw_writer.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rwlock-shared", test_rwlock_shared, 300,
      "ARG ms: readers on every CPU overlap in the rwlock, a writer is always alone");

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
    uint64_t worst = 0, most_entered = 0, overtaken = 0;
    uint64_t allowed = ncpu - 1;
    for (long w = 0; w < writes; ++w) {
        uint64_t t0 = clock_ns();
        uint64_t entries_before = reader_entries.load();
        {
            exclusive_guard g(test_rw);
            uint64_t entered = reader_entries.load() - entries_before;
            most_entered = max(most_entered, entered);
            if (entered > allowed) ++overtaken;
            ++shared_value;
        }
        worst = max(worst, clock_ns() - t0);
        msleep(1);
    }
    stop = true;
    for (proc* p : readers) if (p) kthread_join(p);
    bool ok = torn.load() == 0 && overtaken * 10 <= uint64_t(writes) && reader_sections.load() > 0;
    log_printf("ktest rwlock-writer: %ld writes, longest wait %lu us, %lu writes overtaken by "
               "more than %lu new readers (a tenth allowed; most %lu), %lu reader sections, "
               "%lu saw a write inside their section: %s", writes, worst / 1000, overtaken,
               allowed, most_entered, reader_sections.load(), torn.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rwlock-writer", test_rwlock_writer, 200,
      "ARG writes while readers hold the rwlock back to back: no writer starves");

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
KTEST("spinlock-count", test_spinlock_count, 100000,
      "every CPU increments a counter ARG times under the spinlock: none is lost");
}
