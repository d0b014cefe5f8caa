// kernel/ktest/ktest_lockdep.cc: each check of the lock checker
// (kernel/lockdep.cc) and of might_sleep, provoked on purpose. Every test
// here must PANIC with the check's message naming the function below that
// made the mistake (tests/tests_locks.py says which); if it returns, the
// check missed the mistake, and it says so and fails. They need a debug
// build: DEBUG=0 checks only might_sleep.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "lockdep.hh"

namespace {
spinlock lock_a{"ktest.lock_a"};
spinlock lock_b{"ktest.lock_b"};

// missed(name, what): a check that should have panicked did not.
long missed(const char* name, const char* what) {
    log_printf("ktest %s: %s went unnoticed: FAILED", name, what);
    return -1;
}

[[gnu::noinline]] long take_twice() {
    spinlock_guard g(lock_a);
    spinlock_guard again(lock_a);      // panics: would spin forever
    return missed("lock-recursive", "taking a spinlock this CPU holds");
}
KTEST("lock-recursive", [](long) { return take_twice(); }, 0,
      "take a spinlock twice on one CPU: must PANIC naming the lock and the function");

[[gnu::noinline]] long release_unheld() {
    preempt_disable();                 // as lock() would have done
    lock_b.unlock();                   // panics: nobody holds it
    return missed("lock-release", "releasing a spinlock nobody holds");
}
KTEST("lock-release", [](long) { return release_unheld(); }, 0,
      "release a spinlock this CPU does not hold: must PANIC");

// lock-inversion: a kernel thread on another CPU takes lock_a then lock_b
// and finishes; then this CPU takes lock_b then lock_a. The two never run
// at once, so nothing deadlocks: the checker must see the inversion in the
// recorded first order.
void a_then_b(void*) {
    {
        spinlock_guard ga(lock_a);
        spinlock_guard gb(lock_b);
    }
    proc_exit(0);
}
[[gnu::noinline]] long b_then_a() {
    spinlock_guard gb(lock_b);
    spinlock_guard ga(lock_a);         // panics: the opposite order was seen first
    return missed("lock-inversion", "taking two locks in both orders");
}
long test_inversion() {
    kthread_join(kthread_spawn_on((this_cpu_index() + 1) % ncpu, "a-then-b", a_then_b, nullptr));
    return b_then_a();
}
KTEST("lock-inversion", [](long) { return test_inversion(); }, 0,
      "take two locks in one order, then the other: must PANIC with both orders' call sites");

[[gnu::noinline]] long against_lock_order() {
    preempt_guard pg;
    spinlock_guard rq(this_cpu()->runq_lock);
    spinlock_guard tree(proc_tree_lock);   // panics: THE LOCK ORDER puts it before runq_lock
    return missed("lock-order", "taking proc_tree_lock while holding a runq_lock");
}
KTEST("lock-order", [](long) { return against_lock_order(); }, 0,
      "take proc_tree_lock under a runq_lock, against THE LOCK ORDER: must PANIC");

[[gnu::noinline]] long two_of_a_class() {
    preempt_guard pg;
    int other = (this_cpu()->index + 1) % ncpu;
    spinlock_guard mine(this_cpu()->runq_lock);
    spinlock_guard theirs(cpus[other].runq_lock);   // panics: two run-queue locks
    return missed("lock-same-class", "holding two runq_locks at once");
}
KTEST("lock-same-class", [](long) { return two_of_a_class(); }, 0,
      "hold two CPUs' run-queue locks at once: must PANIC");

rcu_ptr<int> guarded_ptr;
[[gnu::noinline]] long load_locked_unheld() {
    int* p = guarded_ptr.load_locked(lock_a);   // panics: lock_a is not held
    return p ? 0 : missed("lock-held", "rcu_ptr::load_locked without its lock");
}
KTEST("lock-held", [](long) { return load_locked_unheld(); }, 0,
      "rcu_ptr::load_locked(lock) without holding the lock: must PANIC");

[[gnu::noinline]] long this_cpu_preemptible() {
    int i = this_cpu()->index;         // panics: the caller may migrate
    log_printf("ktest this-cpu: read cpu%d with preemption and interrupts enabled", i);
    return missed("this-cpu", "this_cpu() from a preemptible caller");
}
KTEST("this-cpu", [](long) { return this_cpu_preemptible(); }, 0,
      "this_cpu() with preemption and interrupts enabled: must PANIC");

[[gnu::noinline]] long sleep_under_spinlock() {
    spinlock_guard g(lock_a);
    msleep(1);                         // panics: holding lock_a
    return missed("sleep-spinlock", "sleeping while holding a spinlock");
}
KTEST("sleep-spinlock", [](long) { return sleep_under_spinlock(); }, 0,
      "msleep while holding a spinlock: must PANIC naming the lock");

[[gnu::noinline]] long sleep_irqs_off() {
    cli();
    msleep(1);                         // panics: interrupts are off
    bool on = interrupts_enabled();
    sti();
    log_printf("ktest sleep-irqoff: msleep returned with interrupts %s", on ? "ON" : "off");
    return missed("sleep-irqoff", "sleeping with interrupts disabled");
}
KTEST("sleep-irqoff", [](long) { return sleep_irqs_off(); }, 0,
      "msleep with interrupts disabled: must PANIC");

[[gnu::noinline]] long sync_irqs_off() {
    cli();
    synchronize_rcu();                 // panics: interrupts are off
    bool on = interrupts_enabled();
    sti();
    log_printf("ktest rcu-sync-irqoff: synchronize_rcu returned with interrupts %s",
               on ? "ON" : "off");
    return missed("rcu-sync-irqoff", "synchronize_rcu with interrupts disabled");
}
KTEST("rcu-sync-irqoff", [](long) { return sync_irqs_off(); }, 0,
      "synchronize_rcu with interrupts disabled: must PANIC");
}
