// kernel/ktest/rcutorture.cc: rcutorture in small (after Linux's
// kernel/rcu/rcutorture.c), run with `ktest rcutorture SECONDS`.
//
// One writer keeps replacing a shared object. A replaced object's "pipe
// age" starts at 1 and goes up by one after each grace period, whichever
// way the writer waits for it this cycle: call_rcu (the callback bumps the
// age and queues itself again), synchronize_rcu or the expedited form (bump
// every removed object after the wait), or call_rcu followed by
// rcu_barrier. At age PIPE_LEN the object is freed (and poisoned).
//
// Readers on every CPU (kernel threads, and the timer interrupt) load the
// object, linger a random while inside the section, and record its age at
// the END of the section. The object was current when they loaded it, so a
// grace period that completes while they still hold it is an RCU bug: an
// age of 2 or more, or poison, is a failure. Fake writers call the
// grace-period primitives at random to add contention. The pipe histogram
// is printed at the end; for a correct RCU all counts are at ages 0 and 1.
#include "ktest/ktest.hh"
#include "tickhook.hh"
#include "proc.hh"
#include "kalloc.hh"
#include "apic.hh"

namespace {
constexpr int PIPE_LEN = 10;
constexpr uint64_t LIVE = 0x70270270270270UL;

struct torture_obj {
    uint64_t magic = LIVE;
    std::atomic<int> pipe{0};
    rcu_head rcu;
    torture_obj* next_removed = nullptr;  // the writer's list, sync modes
};

rcu_ptr<torture_obj> current_obj;
std::atomic<bool> running{false}, stopping{false};
struct alignas(64) per_cpu_hist { std::atomic<uint64_t> age[PIPE_LEN + 1]; };
per_cpu_hist hist[MAXCPU];
std::atomic<uint64_t> poison_seen{0}, reads{0}, irq_reads{0};
std::atomic<uint64_t> objs_alive{0};
std::atomic<uint64_t> irq_cbs_queued{0}, irq_cbs_run{0};   // call_rcu from interrupts

uint64_t next_rand(uint64_t* x) {
    *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
    return *x;
}

torture_obj* new_obj() {
    objs_alive.fetch_add(1);
    return new torture_obj;
}
void free_obj(torture_obj* o) {
    objs_alive.fetch_sub(1);
    delete o;                             // poisons: magic becomes 0x6b6b...
}

// pipe_cb: one grace period has passed since this object was last queued.
void pipe_cb(rcu_head* h) {
    torture_obj* o = container_of(h, torture_obj, rcu);
    if (o->pipe.fetch_add(1) + 1 >= PIPE_LEN) free_obj(o);
    else call_rcu(&o->rcu, pipe_cb);
}

// read_once(linger_ns, cpu): one read section; records the age seen at its end.
void read_once(uint64_t linger_ns, int cpu) {
    rcu_read_guard g;
    torture_obj* o = current_obj.load();
    if (!o) return;
    if (linger_ns) delay_ns(linger_ns);
    int age = o->pipe.load(std::memory_order_relaxed);
    if (o->magic != LIVE || age < 0 || age > PIPE_LEN) {
        poison_seen.fetch_add(1);
        return;
    }
    hist[cpu].age[age].fetch_add(1, std::memory_order_relaxed);
}

void reader_fn(void*) {
    int cpu = current()->pinned;
    uint64_t x = clock_ns() * (cpu + 1) | 1;
    for (uint64_t i = 0; !stopping.load(std::memory_order_relaxed); ++i) {
        uint64_t r = next_rand(&x);
        uint64_t delay = r % 16 == 0 ? r % 50000 : r % 1000 == 1 ? 500000 : 0;
        read_once(delay, cpu);
        reads.fetch_add(1, std::memory_order_relaxed);
        if (i % 64 == 63) {
            if (r & 64) yield(); else msleep(1);
        }
    }
    proc_exit(0);
}

void fake_writer_fn(void*) {
    uint64_t x = clock_ns() | 1;
    while (!stopping.load(std::memory_order_relaxed)) {
        uint64_t r = next_rand(&x);
        switch (r % 4) {
        case 0: synchronize_rcu(); break;
        case 1: synchronize_rcu_expedited(); break;
        case 2: {
            rcu_head* h = new rcu_head;
            call_rcu(h, [](rcu_head* p) { delete p; });
            break;
        }
        default: msleep(1 + r % 3); break;
        }
    }
    proc_exit(0);
}

struct writer_result { std::atomic<uint64_t> cycles{0}; uint64_t by_mode[4] = {}; };

// age_removed(list): one grace period passed for every removed object;
// free those that reached PIPE_LEN.
void age_removed(torture_obj** list) {
    torture_obj** pp = list;
    while (torture_obj* o = *pp) {
        if (o->pipe.fetch_add(1) + 1 >= PIPE_LEN) {
            *pp = o->next_removed;
            free_obj(o);
        } else {
            pp = &o->next_removed;
        }
    }
}

void writer_fn(void* arg) {
    auto* res = static_cast<writer_result*>(arg);
    uint64_t x = clock_ns() | 1;
    torture_obj* removed = nullptr;       // waiting objects, sync modes
    while (!stopping.load(std::memory_order_relaxed)) {
        torture_obj* n = new_obj();
        torture_obj* old = current_obj.exchange(n);
        old->pipe.store(1);               // removed: age 1 until a GP passes
        int mode = next_rand(&x) % 4;
        ++res->by_mode[mode];
        if (mode == 0 || mode == 3) {
            call_rcu(&old->rcu, pipe_cb);
            if (mode == 3) rcu_barrier();
        } else {
            old->next_removed = removed;
            removed = old;
            if (mode == 1) synchronize_rcu(); else synchronize_rcu_expedited();
            age_removed(&removed);
        }
        if (res->cycles.fetch_add(1) % 16 == 15) msleep(1);
    }
    while (removed) {                     // drain: age out through grace periods
        synchronize_rcu();
        age_removed(&removed);
    }
    proc_exit(0);
}

// irq_reader(): the timer interrupt's reader while a run is on.
void irq_reader() {
    read_once(0, this_cpu()->index);
    if (irq_reads.fetch_add(1, std::memory_order_relaxed) % 8 == 0) {
        // call_rcu is callable from interrupt handlers too.
        if (rcu_head* h = new rcu_head) {
            irq_cbs_queued.fetch_add(1);
            call_rcu(h, [](rcu_head* p) {
                irq_cbs_run.fetch_add(1);
                delete p;
            });
        }
    }
}
TICK_HOOK(rcutorture_irq_reader, running, irq_reader);

long rcutorture(long seconds) {
    rcu_barrier();
    size_t free0 = pmem_free_pages();
    for (auto& h : hist) for (auto& a : h.age) a = 0;
    poison_seen = reads = irq_reads = irq_cbs_queued = irq_cbs_run = 0;
    stopping = false;
    current_obj.publish(new_obj());
    running = true;
    proc* threads[2 * MAXCPU + 2];
    int n = 0;
    writer_result wres;
    threads[n++] = kthread_spawn_on(0, "torture-writer", writer_fn, &wres);
    for (int i = 0; i < ncpu; ++i) threads[n++] = kthread_spawn_on(i, "torture-reader", reader_fn, nullptr);
    for (int i = 0; i < min(ncpu, 2); ++i) {
        threads[n++] = kthread_spawn_on(ncpu - 1 - i, "torture-fakewriter", fake_writer_fn, nullptr);
    }
    log_printf("rcutorture: %d threads on %d CPUs for %ld s", n, ncpu, seconds);
    // The run lasts `seconds`, and then until the writer has done its
    // minimum of cycles, each a grace period or a callback batch: a host
    // that runs the vCPUs slowly makes the run longer, never fails it. Only
    // a writer that stays stuck for 12 times the run is STALLED.
    const uint64_t min_cycles = uint64_t(seconds) * 10;
    uint64_t give_up = clock_ns() + uint64_t(seconds) * 12 * 1000000000;
    msleep(seconds * 1000);
    while (wres.cycles.load() < min_cycles && clock_ns() < give_up) msleep(10);
    stopping = true;
    for (int i = 0; i < n; ++i) kthread_join(threads[i]);
    running = false;
    torture_obj* last = current_obj.exchange(nullptr);
    synchronize_rcu();
    free_obj(last);
    rcu_barrier();

    uint64_t total[PIPE_LEN + 1] = {};
    for (int c = 0; c < ncpu; ++c) for (int a = 0; a <= PIPE_LEN; ++a) total[a] += hist[c].age[a].load();
    char line[256];
    int len = 0;
    for (int a = 0; a <= PIPE_LEN; ++a) len += snprintf(line + len, sizeof(line) - len, " %lu", total[a]);
    uint64_t too_old = 0;
    for (int a = 2; a <= PIPE_LEN; ++a) too_old += total[a];
    size_t free1 = free_pages_settled(free0);
    bool writer_ok = wres.cycles.load() >= min_cycles;
    bool irq_cbs_ok = irq_cbs_run.load() == irq_cbs_queued.load();
    bool ok = too_old == 0 && poison_seen.load() == 0 && writer_ok && objs_alive.load() == 0
        && free1 == free0 && irq_cbs_ok;
    log_printf("rcutorture: reader pipe ages (0..%d):%s", PIPE_LEN, line);
    log_printf("rcutorture: %lu thread reads, %lu irq reads, %lu saw age >= 2, %lu saw a freed object; "
               "%lu of %lu callbacks queued from interrupts ran", reads.load(), irq_reads.load(),
               too_old, poison_seen.load(), irq_cbs_run.load(), irq_cbs_queued.load());
    log_printf("rcutorture: writer %lu cycles (call_rcu %lu, sync %lu, expedited %lu, barrier %lu)%s; "
               "objects leaked %lu; free pages %zu before, %zu after",
               wres.cycles.load(), wres.by_mode[0], wres.by_mode[1], wres.by_mode[2], wres.by_mode[3],
               writer_ok ? "" : " STALLED", objs_alive.load(), free0, free1);
    log_printf("rcutorture: %s", ok ? "PASSED" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcutorture", rcutorture, 5,
      "rcutorture for ARG s: no reader sees an object outlive two grace periods, nothing leaks");
}
