// kernel/preempt.hh: the per-CPU preemption count.
//
// While a CPU's preemption count is non-zero, the task on it keeps the CPU:
// the timer does not preempt it and it must not call cpu::schedule.
// Spinlocks and interrupt handlers raise the count.
// BEGIN PSET 2 EXPLANATION
// So do RCU read sections: that is all rcu_read_lock does.
// END PSET 2 EXPLANATION
// The count lives in the CPU's `cpu` object at %gs:32 and `need_resched` at
// %gs:36, so raising and lowering it is one instruction, with no atomic
// read-modify-write and no fence: an interrupt on the same CPU sees the
// count either before or after the instruction, never half-way.
#pragma once
#include <stdint.h>

constexpr uint32_t PREEMPT_IRQ = 1u << 16;   // added while in an interrupt handler

// preempt_schedule(): the held-back reschedule, run when the count drops
// to zero (sched.cc).
void preempt_schedule();

inline uint32_t preempt_count() {
    uint32_t c;
    asm volatile("movl %%gs:32, %0" : "=r"(c));
    return c;
}
inline void preempt_disable() {
    asm volatile("incl %%gs:32" ::: "memory");
}
// preempt_enable(): lower the count; if it reaches zero and a reschedule
// was requested meanwhile, reschedule now.
inline void preempt_enable() {
    asm goto("decl %%gs:32\n\t"
             "jnz %l[done]\n\t"
             "cmpb $0, %%gs:36\n\t"
             "jne %l[resched]"
             ::: "memory", "cc" : done, resched);
    return;
resched:
    preempt_schedule();
done:;
}
// preempt_enable_no_resched(): lower the count without rescheduling
// (for code that is about to reschedule itself or return from an interrupt).
inline void preempt_enable_no_resched() {
    asm volatile("decl %%gs:32" ::: "memory");
}
inline void set_need_resched() {
    asm volatile("movb $1, %%gs:36" ::: "memory");
}

// RAII: no preemption in this scope.
class preempt_guard {
public:
    preempt_guard() { preempt_disable(); }
    ~preempt_guard() { preempt_enable(); }
    preempt_guard(const preempt_guard&) = delete;
    preempt_guard& operator=(const preempt_guard&) = delete;
};
