// kernel/rwlock.hh: the lecture's reader-writer spinlock, writer-preferring.
//
// One word: bit 0 says a writer holds the lock, bit 1 says a writer is
// waiting, and the rest counts readers (in units of 4). A waiting writer
// sets bit 1, which stops new readers from entering, so a stream of readers
// cannot starve writers; writers among themselves go in ticket order
// through `writers`, so they cannot starve each other either. Holding it
// (either way) disables preemption, like a spinlock.
#pragma once
#include "spinlock.hh"

class rwlock {
public:
    void lock_shared() {
        preempt_disable();
        while (true) {
            uint32_t v = word_.load(std::memory_order_relaxed);
            if (!(v & (WRITER | WAITING))
                && word_.compare_exchange_weak(v, v + READER, std::memory_order_acquire)) {
                return;
            }
            cpu_relax();
        }
    }
    void unlock_shared() {
        word_.fetch_sub(READER, std::memory_order_release);
        preempt_enable();
    }
    void lock() {
        writers_.lock();                      // one writer at a time, in order
        word_.fetch_or(WAITING, std::memory_order_relaxed);
        while (true) {
            uint32_t v = word_.load(std::memory_order_relaxed);
            if (v == WAITING && word_.compare_exchange_weak(v, WRITER, std::memory_order_acquire)) {
                return;
            }
            cpu_relax();
        }
    }
    void unlock() {
        word_.store(0, std::memory_order_release);
        writers_.unlock();
    }
private:
    static constexpr uint32_t WRITER = 1, WAITING = 2, READER = 4;
    std::atomic<uint32_t> word_{0};
    spinlock writers_;
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
