// kernel/rwlock.hh: the lecture's reader-writer spinlock (pset 1).
//
// Any number of readers may hold the lock at once (lock_shared), or one
// writer alone (lock). Holding it, either way, disables preemption, like a
// spinlock. It must be writer-preferring: once a writer waits, new readers
// wait too, so a stream of overlapping readers cannot starve writers.
#pragma once
#include "spinlock.hh"

class rwlock {
public:
    void lock_shared() {
        // BEGIN PSET 1 SOLUTION: enter as a reader; wait while a writer holds or waits
        preempt_disable();
        while (true) {
            uint32_t v = word_.load(std::memory_order_relaxed);
            if (!(v & (WRITER | WAITING))
                && word_.compare_exchange_weak(v, v + READER, std::memory_order_acquire)) {
                return;
            }
            cpu_relax();
        }
        // STUB: PSET_TODO(1, "rwlock::lock_shared");
        // END PSET 1 SOLUTION
    }
    void unlock_shared() {
        // BEGIN PSET 1 SOLUTION: leave as a reader
        word_.fetch_sub(READER, std::memory_order_release);
        preempt_enable();
        // STUB: PSET_TODO(1, "rwlock::unlock_shared");
        // END PSET 1 SOLUTION
    }
    void lock() {
        // BEGIN PSET 1 SOLUTION: enter as the only writer; keep new readers out while waiting
        writers_.lock();                      // one writer at a time, in order
        word_.fetch_or(WAITING, std::memory_order_relaxed);
        while (true) {
            uint32_t v = word_.load(std::memory_order_relaxed);
            if (v == WAITING && word_.compare_exchange_weak(v, WRITER, std::memory_order_acquire)) {
                return;
            }
            cpu_relax();
        }
        // STUB: PSET_TODO(1, "rwlock::lock");
        // END PSET 1 SOLUTION
    }
    void unlock() {
        // BEGIN PSET 1 SOLUTION: leave as the writer
        word_.store(0, std::memory_order_release);
        writers_.unlock();
        // STUB: PSET_TODO(1, "rwlock::unlock");
        // END PSET 1 SOLUTION
    }
private:
    // BEGIN PSET 1 SOLUTION: the lock's state
    // One word: bit 0 says a writer holds the lock, bit 1 says a writer is
    // waiting, and the rest counts readers (in units of 4). A waiting writer
    // sets bit 1, which stops new readers from entering; writers among
    // themselves take turns through `writers_`, so only one at a time
    // announces itself. (writers_ is a spinlock, so a waiting writer
    // already has preemption disabled.)
    static constexpr uint32_t WRITER = 1, WAITING = 2, READER = 4;
    std::atomic<uint32_t> word_{0};
    spinlock writers_{"rwlock.writers"};
    // END PSET 1 SOLUTION
};

// RAII guards.
class shared_guard {
public:
    explicit shared_guard(rwlock& l) : l_(l) { l_.lock_shared(); }
    ~shared_guard() { l_.unlock_shared(); }
    shared_guard(const shared_guard&) = delete;
    shared_guard& operator=(const shared_guard&) = delete;
private:
    rwlock& l_;
};
class exclusive_guard {
public:
    explicit exclusive_guard(rwlock& l) : l_(l) { l_.lock(); }
    ~exclusive_guard() { l_.unlock(); }
    exclusive_guard(const exclusive_guard&) = delete;
    exclusive_guard& operator=(const exclusive_guard&) = delete;
private:
    rwlock& l_;
};
