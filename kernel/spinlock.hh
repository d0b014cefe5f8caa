// kernel/spinlock.hh: the kernel's spinlock (a ticket lock) and its guard.
//
// A ticket lock is fair: CPUs get the lock in the order they asked, so no
// CPU starves. Holding a spinlock disables preemption (and, through
// spinlock_guard, interrupts), so a holder is never switched away from
// while others spin.
#pragma once
#include <stdint.h>
#include <atomic>
#include "x86.hh"
#include "preempt.hh"

struct spinlock {
    std::atomic<uint32_t> next_ticket{0};
    std::atomic<uint32_t> now_serving{0};

    void lock() {
        preempt_disable();
        uint32_t t = next_ticket.fetch_add(1, std::memory_order_relaxed);
        while (now_serving.load(std::memory_order_acquire) != t) {
            cpu_relax();
        }
    }
    [[nodiscard]] bool try_lock() {
        preempt_disable();
        uint32_t t = now_serving.load(std::memory_order_relaxed);
        uint32_t expected = t;
        if (next_ticket.compare_exchange_strong(expected, t + 1, std::memory_order_acquire)) {
            return true;
        }
        preempt_enable();
        return false;
    }
    void unlock() {
        now_serving.store(now_serving.load(std::memory_order_relaxed) + 1,
                          std::memory_order_release);
        preempt_enable();
    }
    [[nodiscard]] uint64_t lock_irqsave() {
        uint64_t f = irq_save();
        lock();
        return f;
    }
    void unlock_irqrestore(uint64_t f) {
        now_serving.store(now_serving.load(std::memory_order_relaxed) + 1,
                          std::memory_order_release);
        irq_restore(f);
        preempt_enable();
    }
    bool is_locked() const {
        return next_ticket.load(std::memory_order_relaxed)
            != now_serving.load(std::memory_order_relaxed);
    }
};

// spinlock_guard: holds `l` with interrupts disabled for the scope.
class spinlock_guard {
public:
    explicit spinlock_guard(spinlock& l) : lock_(l), flags_(l.lock_irqsave()) {}
    ~spinlock_guard() { lock_.unlock_irqrestore(flags_); }
    spinlock_guard(const spinlock_guard&) = delete;
    spinlock_guard& operator=(const spinlock_guard&) = delete;
private:
    spinlock& lock_;
    uint64_t flags_;
};
