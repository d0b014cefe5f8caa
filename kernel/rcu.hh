// kernel/rcu.hh: the RCU interface. The algorithm, and why it is correct,
// is explained at the top of kernel/rcu.cc.
#pragma once
#include "kernel.hh"
#include "preempt.hh"
#include "spinlock.hh"
#include <atomic>
#include <type_traits>

// rcu_read_lock()/rcu_read_unlock(): a read-side critical section.
// Nestable; safe in interrupt handlers.
// BEGIN PSET 2 EXPLANATION
// It only raises this CPU's preemption count: one non-atomic increment, no
// fence, no shared cache line. The asm "memory" clobbers make it a compiler
// barrier, so loads cannot move out of the section.
// END PSET 2 EXPLANATION
inline void rcu_read_lock() {
    // BEGIN PSET 2 SOLUTION: begin a read section
    preempt_disable();
    // STUB: PSET_TODO(2, "rcu_read_lock");
    // END PSET 2 SOLUTION
}
void rcu_read_unlock_underflow();
inline void rcu_read_unlock() {
    // BEGIN PSET 2 SOLUTION: end a read section
#if GRACE_DEBUG
    if (__builtin_expect(preempt_count() == 0, 0)) rcu_read_unlock_underflow();
#endif
    preempt_enable();
    // STUB: PSET_TODO(2, "rcu_read_unlock");
    // END PSET 2 SOLUTION
}
inline bool rcu_read_lock_held() { return preempt_count() != 0; }

// RAII: a read section for the scope.
class [[nodiscard]] rcu_read_guard {
public:
    rcu_read_guard() { rcu_read_lock(); }
    ~rcu_read_guard() { rcu_read_unlock(); }
    rcu_read_guard(const rcu_read_guard&) = delete;
    rcu_read_guard& operator=(const rcu_read_guard&) = delete;
};

// Called for an RCU pointer load outside any read section and without the
// update lock: prints a warning with a backtrace (debug builds).
void rcu_warn_unprotected_load(const void* where);

// rcu_ptr<T>: a pointer that readers load inside read sections while
// writers replace it.
//  - load(): inside a read section (or holding the writers' lock, then use
//    load_locked(lock)). On x86 a plain load is dependency- and acquire-ordered.
//  - publish(p): release store: everything written to *p before is
//    visible to any reader that loads p.
//  - init(p): no ordering; before anyone else can see the pointer.
template <typename T>
class rcu_ptr {
public:
    constexpr rcu_ptr() = default;
    constexpr explicit rcu_ptr(T* p) : p_(p) {}
    rcu_ptr(const rcu_ptr&) = delete;
    rcu_ptr& operator=(const rcu_ptr&) = delete;

    [[nodiscard]] T* load() const {
#if GRACE_DEBUG
        if (__builtin_expect(!rcu_read_lock_held(), 0)) rcu_warn_unprotected_load(this);
#endif
        return p_.load(std::memory_order_acquire);
    }
    // load_locked(update_lock): the update side, holding `update_lock`, the
    // lock that serializes writers, so the pointer cannot change underneath
    // it (Linux: rcu_dereference_protected(p, lockdep_is_held(&lock))).
    // Debug builds panic if this CPU does not hold the lock.
    [[nodiscard]] SPINLOCK_INLINE T* load_locked(
        [[maybe_unused]] const spinlock& update_lock) const {
#if GRACE_DEBUG
        lockdep_assert_held(&update_lock, "rcu_ptr::load_locked");
#endif
        return p_.load(std::memory_order_relaxed);
    }
    // peek(): the pointer's value, only to compare or test it, never to
    // dereference it: no read section needed (Linux: rcu_access_pointer).
    [[nodiscard]] T* peek() const { return p_.load(std::memory_order_relaxed); }
    void publish(T* p) { p_.store(p, std::memory_order_release); }
    void init(T* p) { p_.store(p, std::memory_order_relaxed); }
    // exchange(p): publish p and return the old pointer (writers' side).
    [[nodiscard]] T* exchange(T* p) { return p_.exchange(p, std::memory_order_acq_rel); }
private:
    std::atomic<T*> p_{nullptr};
};

// A callback waiting for a grace period. Embed one in the object to free.
struct rcu_head {
    rcu_head* next = nullptr;
    void (*fn)(rcu_head*) = nullptr;
    uint64_t gp_needed = 0;        // grace-period number it waits for
    uint64_t queued_tick = 0;      // its CPU's `ticks` at call_rcu (its age, for GDB)
};

// call_rcu(head, fn): run fn(head) once a grace period has passed: after
// every read section that was running at the time of the call has ended.
// Callable from any context, including interrupt handlers.
void call_rcu(rcu_head* head, void (*fn)(rcu_head*));

// rcu_free(obj): kfree/delete `obj` after a grace period. T must have an
// `rcu_head rcu` member.
template <typename T>
void rcu_free(T* obj) {
    call_rcu(&obj->rcu, [](rcu_head* h) {
        T* o = reinterpret_cast<T*>(reinterpret_cast<char*>(h) - offsetof(T, rcu));
        delete o;
    });
}

// synchronize_rcu(): wait (sleeping) for a full grace period. Must not be
// called inside a read section.
void synchronize_rcu();
// synchronize_rcu_expedited(): the same, but force the other CPUs through
// a quiescent state with IPIs instead of waiting for their timer ticks.
void synchronize_rcu_expedited();
// rcu_barrier(): wait until every callback queued before the call has run.
void rcu_barrier();

// Hooks for the scheduler, the timer and interrupt entry (rcu.cc).
void rcu_note_qs();                  // this CPU is in a quiescent state
void rcu_tick(bool quiescent);       // timer tick; `quiescent`: interrupted context had count 0
void rcu_irq_enter();
void rcu_irq_exit();
void rcu_idle_enter();
void rcu_idle_exit();
void rcu_do_callbacks();             // run this CPU's ready callbacks
// rcu_cpu_has_work(): this CPU has callbacks ready to run. Interrupts or
// preemption must be off: an interrupt could run and free the list's head.
bool rcu_cpu_has_work();

// Statistics summed over CPUs (rcu.cc).
struct rcu_stats {
    uint64_t gp_started, gp_completed, qs_reported, cb_queued, cb_invoked,
        cb_high_water, cb_pending, longest_gp_ns;
};
rcu_stats rcu_get_stats();
uint64_t rcu_completed_gp();
// rcu_gp_seq(): gp_seq itself (rcu.cc: twice the completed GPs, plus one
// while a GP runs); rcu_gp_waits_for(cpu): a GP is running and still
// waits for a quiescent state from CPU `cpu`. For self-tests that stage a
// moment in a grace period's life.
uint64_t rcu_gp_seq();
bool rcu_gp_waits_for(int cpu);
// rcu_later_gp_requested(): someone (synchronize_rcu, call_rcu) wants a
// grace period that can only start after the one running now ends.
bool rcu_later_gp_requested();
// rcu_print_state(): one line, "rcu: gp_seq S completed C running R owe MASK
// cbs N0,N1,...": what GDB's grace-rcu shows, printed by the kernel itself
// (sys_kprint("state")), so that tests can compare the two.
void rcu_print_state();

// LS_BUSTED and the "broken RCU" self-tests: when set, synchronize_rcu and
// call_rcu skip the grace period entirely.
extern bool rcu_busted;
// Debug builds: start_gp_locked runs the stall check right after gp_seq
// turns odd (ktest rcu-stall-start: the moment a stale start time would
// be seen, made to happen every time).
extern bool rcu_stall_check_at_gp_start;
extern std::atomic<uint64_t> rcu_stall_reports;   // stall warnings printed so far
// A CPU with more than this many queued callbacks makes call_rcu callers
// that can sleep wait for an expedited grace period and drain.
constexpr uint64_t RCU_CB_LIMIT = 10000;
// The same when free memory is low (rcu.cc, memory_low): a storm of
// largestruct writers then waits for its own frees instead of failing.
constexpr uint64_t RCU_CB_LOW_MEMORY_LIMIT = 16;
