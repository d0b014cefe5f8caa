// kernel/tickhook.hh: extra work on every timer tick, on every CPU,
// registered where it is defined.
//
// The timer interrupt (trap.cc) does the scheduler's and RCU's tick work,
// then runs every registered hook whose `on` flag is set. Self-tests use
// this for readers inside interrupt handlers: a test sets its flag while
// it runs and clears it when done; the rest of the time a hook costs one
// relaxed load per tick. A hook runs with interrupts off and the
// preemption count raised (an RCU read section): it may take spinlocks
// and call call_rcu, never sleep or schedule. Hooks and their flags are
// static, so a hook that sees its flag clear late still finds its data.
#pragma once
#include <atomic>

struct tick_hook {
    const char* name;
    const std::atomic<bool>* on;     // the hook runs only while *on
    void (*fn)();
};

// TICK_HOOK(var, on, fn): register hook `var` that calls fn() on every
// tick while the std::atomic<bool> `on` is true.
#define TICK_HOOK(var, on, fn)                                                          \
    static const tick_hook var{#var, &(on), fn};                                         \
    __attribute__((used, section(".tick_hooks"))) static const tick_hook* const var##_entry = &var

// run_tick_hooks(): from the timer interrupt: every hook that is on.
void run_tick_hooks();
