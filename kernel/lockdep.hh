// kernel/lockdep.hh: the lock checker's interface (lockdep.cc): THE LOCK
// ORDER's table, might_sleep, and stopping the checker for a panic. The
// spinlock's own hooks are declared in spinlock.hh.
#pragma once
#include "kernel.hh"

// One class of spinlocks in THE LOCK ORDER: a lock's class is its name
// (spinlock.hh). The table is LOCK_ORDER at the top of kernel/sched.cc,
// first to last; a CPU holding a lock of one class may only take locks of
// classes further down.
struct lock_order_entry {
    const char* name;
    const char* what;          // which locks, and why they sit here
};
extern const lock_order_entry LOCK_ORDER[];
extern const size_t LOCK_ORDER_LENGTH;

// might_sleep(what, caller): the entry check of everything that may sleep
// (msleep, wait_until, synchronize_rcu, ...): panics naming `what` and the
// function at return address `caller` if this CPU is inside a read
// section, holds a spinlock (named in debug builds) or has interrupts
// disabled. Sleeping there would stall grace periods or deadlock, and a
// sleep would come back with interrupts enabled. It panics whether or not
// the call would actually have slept, so the mistake shows on every run.
void might_sleep(const char* what, const void* caller);

// current_pc(): the address of the code that calls it (inlined), for
// might_sleep in inline functions such as wait_until.
[[gnu::always_inline]] inline const void* current_pc() {
    const void* pc;
    asm volatile("leaq 0(%%rip), %0" : "=r"(pc));
    return pc;
}

// lockdep_stop(): a panic has begun; check nothing more (the panic path
// takes the console's lock however it can).
void lockdep_stop();
