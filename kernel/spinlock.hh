// kernel/spinlock.hh: the kernel's spinlock (test-and-test-and-set) and its guard.
//
// Holding a spinlock disables preemption (and, through spinlock_guard,
// interrupts), so a holder is never switched away from while others spin.
//
// Why not a ticket lock, which is fair (CPUs get the lock in the order they
// asked)? Grace runs on virtual CPUs, and the host deschedules a vCPU's
// thread whenever it likes. A fair lock hands the lock to the next waiter
// even when that waiter's vCPU is not running; every CPU queued behind it
// then spins until the host runs it again, a whole host time slice. Here a
// released lock goes to whichever waiter is running and sees it free first.
// Measured with `forktree 5 3` (364 processes, every fork taking the page
// allocator's lock) at NCPU=4 beside two host CPU hogs on 2 cores: 27 s
// with a ticket lock, 1.3-2.1 s with this one; alone, 1.4 s either way.
// Linux's x86 spinlock makes the same choice in a guest without
// paravirtualized spinlocks (virt_spin_lock). The cost is fairness: a
// waiter can be overtaken, which with a handful of CPUs and short critical
// sections is rare and brief.
//
// The lock is two counters: `taken` counts acquisitions and `released`
// releases, so the lock is held exactly when they differ, and `taken`
// tells tests how often a lock was taken (rculist.hh's lock_tickets()).
//
// Every spinlock has a name, which is also its lock class: all locks of
// one name are one class (every CPU's "runq_lock"), and THE LOCK ORDER at
// the top of kernel/sched.cc ranks the classes. In debug builds (DEBUG=1,
// the default) each lock also records the CPU that holds it and where it
// was taken, and kernel/lockdep.cc checks every acquisition: taking a lock
// this CPU already holds, releasing one it does not hold, and taking two
// locks against THE LOCK ORDER or against the order first seen for that
// pair all panic, naming the locks and the functions. DEBUG=0 compiles all
// of that away: the lock and unlock paths are the bare lock.
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
    std::atomic<uint32_t> taken{0};      // acquisitions so far
    std::atomic<uint32_t> released{0};   // releases so far; held iff taken != released
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
        // Read until the lock looks free, and only then try to take it,
        // so waiters spin on a shared cache line instead of writing it. The
        // acquire load of `released` pairs with the last holder's release
        // store in unlock(): what it wrote in the lock is visible here.
        for (;;) {
            uint32_t r = released.load(std::memory_order_acquire);
            uint32_t t = r;
            if (taken.load(std::memory_order_relaxed) == r
                && taken.compare_exchange_weak(t, r + 1, std::memory_order_acquire)) {
                break;
            }
            cpu_relax();
        }
#if GRACE_DEBUG
        lockdep_acquired(this);
#endif
    }
    [[nodiscard]] SPINLOCK_INLINE bool try_lock() {
        preempt_disable();
        uint32_t r = released.load(std::memory_order_acquire);
        uint32_t expected = r;
        if (taken.compare_exchange_strong(expected, r + 1, std::memory_order_acquire)) {
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
        released.store(released.load(std::memory_order_relaxed) + 1,
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
        released.store(released.load(std::memory_order_relaxed) + 1,
                       std::memory_order_release);
        irq_restore(f);
        preempt_enable();
    }
    bool is_locked() const {
        return taken.load(std::memory_order_relaxed)
            != released.load(std::memory_order_relaxed);
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
