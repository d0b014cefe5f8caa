// kernel/spinlock.hh: the kernel's spinlock (a ticket lock) and its guard.
//
// A ticket lock is fair: CPUs get the lock in the order they asked, so no
// CPU starves. Holding a spinlock disables preemption (and, through
// spinlock_guard, interrupts), so a holder is never switched away from
// while others spin.
//
// Every spinlock has a name, which is also its lock class: all locks of
// one name are one class (every CPU's "runq_lock"), and THE LOCK ORDER at
// the top of kernel/sched.cc ranks the classes. In debug builds (DEBUG=1,
// the default) each lock also records the CPU that holds it and where it
// was taken, and kernel/lockdep.cc checks every acquisition: taking a lock
// this CPU already holds, releasing one it does not hold, and taking two
// locks against THE LOCK ORDER or against the order first seen for that
// pair all panic, naming the locks and the functions. DEBUG=0 compiles all
// of that away: the lock and unlock paths are the bare ticket lock.
#pragma once
#include <stdint.h>
#include <atomic>
#include "x86.hh"
#include "preempt.hh"

struct spinlock;
#if GRACE_DEBUG
// The lock checker's hooks (lockdep.cc). Each names its caller through its
// return address, so the spinlock code below is always inlined into the
// function that takes the lock, and the messages name that function.
void lockdep_acquire(spinlock* l, bool trylock);   // before the lock is taken (checks)
void lockdep_acquired(spinlock* l);                // once it is held (owner)
void lockdep_release(spinlock* l);                 // before it is released (checks)
void lockdep_assert_held(const spinlock* l, const char* func);
bool lockdep_held_here(const spinlock* l);
#define SPINLOCK_INLINE __attribute__((always_inline))
#else
#define SPINLOCK_INLINE
#endif

struct spinlock {
    std::atomic<uint32_t> next_ticket{0};
    std::atomic<uint32_t> now_serving{0};
#if GRACE_DEBUG
    const char* name = nullptr;        // its class; nullptr: a class of its own
    int16_t owner_cpu = -1;            // the CPU holding it, -1: none
    int16_t lock_class = -1;           // lockdep's index for the class, set at first use
    uintptr_t owner_pc = 0;            // where the holder took it
#endif

    constexpr spinlock() = default;
    // spinlock(name): a lock of class `name` (THE LOCK ORDER, sched.cc).
    constexpr explicit spinlock([[maybe_unused]] const char* class_name) {
#if GRACE_DEBUG
        name = class_name;
#endif
    }
    spinlock(const spinlock&) = delete;
    spinlock& operator=(const spinlock&) = delete;

    SPINLOCK_INLINE void lock() {
        preempt_disable();
#if GRACE_DEBUG
        lockdep_acquire(this, false);
#endif
        uint32_t t = next_ticket.fetch_add(1, std::memory_order_relaxed);
        while (now_serving.load(std::memory_order_acquire) != t) {
            cpu_relax();
        }
#if GRACE_DEBUG
        lockdep_acquired(this);
#endif
    }
    [[nodiscard]] SPINLOCK_INLINE bool try_lock() {
        preempt_disable();
        uint32_t t = now_serving.load(std::memory_order_relaxed);
        uint32_t expected = t;
        if (next_ticket.compare_exchange_strong(expected, t + 1, std::memory_order_acquire)) {
#if GRACE_DEBUG
            lockdep_acquire(this, true);
            lockdep_acquired(this);
#endif
            return true;
        }
        preempt_enable();
        return false;
    }
    SPINLOCK_INLINE void unlock() {
#if GRACE_DEBUG
        lockdep_release(this);
#endif
        now_serving.store(now_serving.load(std::memory_order_relaxed) + 1,
                          std::memory_order_release);
        preempt_enable();
    }
    [[nodiscard]] SPINLOCK_INLINE uint64_t lock_irqsave() {
        uint64_t f = irq_save();
        lock();
        return f;
    }
    SPINLOCK_INLINE void unlock_irqrestore(uint64_t f) {
#if GRACE_DEBUG
        lockdep_release(this);
#endif
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

// assert_held(l): the calling function needs spinlock `l` held by this CPU
// (the `*_locked` functions). Debug builds panic naming the function and
// the lock; DEBUG=0 checks nothing.
#if GRACE_DEBUG
#define assert_held(l) lockdep_assert_held(&(l), __func__)
#else
#define assert_held(l) ((void)0)
#endif

// spinlock_guard: holds `l` with interrupts disabled for the scope.
class spinlock_guard {
public:
    SPINLOCK_INLINE explicit spinlock_guard(spinlock& l) : lock_(l), flags_(l.lock_irqsave()) {}
    SPINLOCK_INLINE ~spinlock_guard() { lock_.unlock_irqrestore(flags_); }
    spinlock_guard(const spinlock_guard&) = delete;
    spinlock_guard& operator=(const spinlock_guard&) = delete;
private:
    spinlock& lock_;
    uint64_t flags_;
};
