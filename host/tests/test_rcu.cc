// host/tests/test_rcu.cc: the RCU core (kernel/rcu.cc) on host threads.
//
// Each test holds a reader inside its section on purpose and checks, by
// counting, that the writer's grace period or callback waits for it; the
// reader keeps reading the object it holds, so if the grace period is
// skipped the object is freed under it and AddressSanitizer reports a
// use after free (ThreadSanitizer a race with the free). The `busted-*`
// variants run the same tests with the kernel's rcu_busted switch set
// (synchronize_rcu and call_rcu skip the grace period, as `ktest
// busted:NAME` does in the kernel): host/tests/run.py requires the
// sanitizers to flag them.
#include "host_test.hh"
#include <sched.h>

namespace {
constexpr uint64_t LIVE = 0x11fe11fe11fe11feUL;
// How many times a reader inside its section yields, looking for a writer
// that went past its grace period: a count, never a time.
constexpr int HOLD_YIELDS = 2000;

struct tobj {
    uint64_t magic = LIVE;
    rcu_head rcu;
};
rcu_ptr<tobj> shared_obj;

// freed_objs counts tobj callbacks run (the object is freed in them).
std::atomic<int> freed_objs{0};
void free_tobj(rcu_head* h) {
    tobj* o = container_of(h, tobj, rcu);
    o->magic = 0;
    delete o;
    freed_objs.fetch_add(1);
}

// hold_reader(p, done, label): inside a read section that holds p: read
// p while yielding HOLD_YIELDS times; `done` turning true meanwhile means
// the writer's grace period ended under this reader (p is then read once
// more, which a sanitizer catches if it was freed).
void hold_reader(const tobj* p, const std::atomic<bool>& done, const char* label) {
    for (int k = 0; k < HOLD_YIELDS; ++k) {
        uint64_t m = __atomic_load_n(&p->magic, __ATOMIC_RELAXED);
        if (done.load(std::memory_order_acquire)) {
            m = __atomic_load_n(&p->magic, __ATOMIC_RELAXED);
            check(false, "%s ended while a reader that began before it was still inside (after %d yields; "
                  "magic now %#lx)", label, k, m);
            return;
        }
        check(m == LIVE, "the reader's object changed under it (magic %#lx)", m);
        sched_yield();
    }
}

// test_sync(expedited): a reader holds the old object; the writer
// publishes a new one, synchronizes, and frees the old one.
bool test_sync(long expedited) {
    shared_obj.init(new tobj);
    std::atomic<int> phase{0};
    std::atomic<bool> done{false};
    const char* label = expedited ? "synchronize_rcu_expedited" : "synchronize_rcu";
    run_cpus(2, [&](int i) {
        if (i == 0) {
            rcu_read_lock();
            const tobj* p = shared_obj.load();
            phase.store(1);
            wait_for([&] { return phase.load() == 2; });
            hold_reader(p, done, label);
            rcu_read_unlock();
            host_quiescent_state();
        } else {
            wait_for([&] { return phase.load() == 1; }, true);
            tobj* old = shared_obj.exchange(new tobj);
            phase.store(2);
            if (expedited) synchronize_rcu_expedited(); else synchronize_rcu();
            old->magic = 0;
            delete old;
            done.store(true, std::memory_order_release);
        }
    });
    delete shared_obj.exchange(nullptr);
    return true;
}

// test_callback(): a callback waits for a full grace period after its own
// call_rcu, not for one that was already running: a reader that began
// after grace period G1 started, but before the call_rcu, holds the
// object; G1 then ends (the reader does not hold it up: it reported
// before entering), and the callback must still wait for the reader.
// Shown to catch snap() rounding up to the end of the running grace
// period (+ 1 instead of + 3, a scratch mutation of kernel/rcu.cc): the
// callback frees the object under the reader, a use after free.
bool test_callback(long) {
    shared_obj.init(new tobj);
    freed_objs.store(0);
    std::atomic<int> phase{0};
    std::atomic<bool> done{false};
    uint64_t g1_done = 0;
    run_cpus(3, [&](int i) {
        if (i == 0) {                       // holds G1 up
            rcu_read_lock();
            phase.store(1);
            wait_for([&] { return phase.load() == 4; });
            rcu_read_unlock();
            host_quiescent_state();
        } else if (i == 1) {                // the reader under test
            wait_for([&] { return phase.load() >= 2 && !rcu_gp_waits_for(this_cpu_index()); }, true);
            rcu_read_lock();                // G1 is running and no longer waits for us
            const tobj* p = shared_obj.load();
            phase.store(3);
            // (With the grace periods skipped, G1 never comes, but `done` does.)
            wait_for([&] { return rcu_completed_gp() >= g1_done || done.load(); });
            hold_reader(p, done, "the callback's grace period");
            rcu_read_unlock();
            host_quiescent_state();
        } else {                            // the writer
            wait_for([&] { return phase.load() == 1; }, true);
            g1_done = rcu_completed_gp() + 1;
            auto* starter = new tobj;       // its callback starts G1
            call_rcu(&starter->rcu, free_tobj);
            phase.store(2);
            wait_for([&] { return phase.load() == 3; }, true);
            tobj* old = shared_obj.exchange(new tobj);
            call_rcu(&old->rcu, free_tobj);
            phase.store(4);                 // G1 may end now
            // The second object freed is `old`: the reader must have left.
            wait_for([&] { return freed_objs.load() >= 2; }, true);
            done.store(true, std::memory_order_release);
        }
    });
    rcu_barrier();
    check(freed_objs.load() == 2, "%d callbacks ran after rcu_barrier, expected 2", freed_objs.load());
    delete shared_obj.exchange(nullptr);
    return true;
}

// test_barrier(): rcu_barrier returns only after every callback queued
// before it has FINISHED, whatever the CPU that queued it does next: stays
// online, goes offline (its callbacks then run on the port's ticker), or
// detaches. The callbacks are slow (they spin, then count themselves done).
// Shown to fail with rcu_barrier's wait for cb_invoked removed from
// kernel/rcu.cc (a scratch mutation): fewer than all had finished.
constexpr int BARRIER_CBS = 40;
std::atomic<int> barrier_finished{0};
void slow_callback(rcu_head* h) {
    volatile uint64_t spin = 0;
    for (int k = 0; k < 20000; ++k) spin = spin + k;
    delete container_of(h, tobj, rcu);
    barrier_finished.fetch_add(1);
}

bool test_barrier(long) {
    barrier_finished.store(0);
    std::atomic<int> queued{0};
    std::atomic<bool> stop{false};
    int done_at_barrier = -1;
    run_cpus(4, [&](int i) {
        if (i < 3) {
            for (int k = 0; k < BARRIER_CBS; ++k) call_rcu(&(new tobj)->rcu, slow_callback);
            queued.fetch_add(1);
            if (i == 0) {
                wait_for([&] { return stop.load(); }, true);    // online, passing quiescent states
            } else if (i == 1) {
                host_offline_guard off;                         // offline until the end
                wait_for([&] { return stop.load(); });
            }                                                   // i == 2 detaches now
        } else {
            for (int k = 0; k < BARRIER_CBS; ++k) call_rcu(&(new tobj)->rcu, slow_callback);
            wait_for([&] { return queued.load() == 3; }, true);
            rcu_barrier();
            done_at_barrier = barrier_finished.load();
            stop.store(true);
        }
    });
    check(done_at_barrier == 4 * BARRIER_CBS, "rcu_barrier returned with %d of %d callbacks finished",
          done_at_barrier, 4 * BARRIER_CBS);
    return true;
}

// test_offline(): a CPU that is offline is not waited for: grace periods
// complete while its thread sits offline (if the port ignored offline
// CPUs, synchronize_rcu would never return: run.py's timeout catches it).
bool test_offline(long) {
    std::atomic<bool> released{false};
    std::atomic<bool> offline{false};
    uint64_t before = 0, after = 0;
    run_cpus(2, [&](int i) {
        if (i == 0) {
            host_offline_guard off;
            offline.store(true);
            wait_for([&] { return released.load(); });
        } else {
            wait_for([&] { return offline.load(); }, true);
            before = rcu_completed_gp();
            for (int k = 0; k < 5; ++k) synchronize_rcu();
            after = rcu_completed_gp();
            released.store(true);
        }
    });
    return check(after >= before + 5, "5 synchronize_rcu calls saw %lu grace periods end", after - before);
}

// busted(fn, arg): test fn with the grace periods skipped.
template <bool (*fn)(long)>
bool busted(long arg) {
    rcu_busted = true;
    bool ok = fn(arg);
    rcu_busted = false;
    return ok;
}

HOST_TEST(sync, "rcu-sync-waits", test_sync, 0, nullptr,
          "synchronize_rcu waits for a reader that began before it");
HOST_TEST(expedited, "rcu-expedited-waits", test_sync, 1, nullptr,
          "synchronize_rcu_expedited waits for a reader that began before it");
HOST_TEST(callback, "rcu-callback-full-gp", test_callback, 0, nullptr,
          "a callback waits a full grace period after its call_rcu, not the one already running");
HOST_TEST(barrier, "rcu-barrier", test_barrier, 0, nullptr,
          "rcu_barrier returns after every slow callback, from online, offline and detached CPUs, finished");
HOST_TEST(offline, "rcu-offline", test_offline, 0, nullptr,
          "grace periods do not wait for an offline CPU");
HOST_TEST(busted_sync, "busted-rcu-sync-waits", busted<test_sync>, 0, "asan",
          "rcu-sync-waits with rcu_busted: the reader's object is freed under it");
HOST_TEST(busted_callback, "busted-rcu-callback-full-gp", busted<test_callback>, 0, "asan",
          "rcu-callback-full-gp with rcu_busted: the callback frees the reader's object at once");
}
