// kernel/cpu.hh: the per-CPU `cpu` object.
//
// Each CPU has one page-aligned `cpu`, reached in O(1) through the %gs
// segment: this_cpu() reads %gs:0, which holds the object's own address.
// The first words have fixed offsets because assembly (syscall entry) and
// the inline preemption counters use them.
#pragma once
#include "kernel.hh"
#include "spinlock.hh"
#include "list.hh"
#include <atomic>

struct proc;
constexpr int MAXCPU = 64;

// Per-CPU RCU state (rcu.cc explains each field).
struct rcu_cpu {
    std::atomic<uint64_t> dynticks{1};   // odd: RCU is watching this CPU; even: idle
    bool irq_from_idle = false;
    struct rcu_head* cb_head = nullptr;  // callbacks, oldest first
    struct rcu_head** cb_tail = &cb_head;
    uint64_t cb_count = 0;
    // Callbacks ever queued here by call_rcu, and ever run here by
    // rcu_do_callbacks: rcu_barrier waits until the second reaches what the
    // first was, so both must count every callback.
    uint64_t cb_queued = 0, cb_invoked = 0;
    // statistics (read by tests and GDB: `p cpus[1].rcu`, grace-cpus)
    uint64_t gp_started = 0, gp_completed = 0, qs_reported = 0;
    uint64_t cb_high_water = 0;
    uint64_t longest_gp_ns = 0;
    uint64_t last_qs_gp = 0;             // the last GP this CPU reported a quiescent state to
    uint64_t last_qs_tick = 0;           // ...and this CPU's `ticks` when it did
};

struct alignas(4096) cpu {
    // Fixed offsets: used by kernel/entry.S and by preempt.hh.
    cpu* self;                   // 0: this object
    uintptr_t kernel_rsp;        // 8: top of the current task's kernel stack
    uintptr_t user_rsp;          // 16: scratch for syscall entry
    proc* current;               // 24: the task running here
    uint32_t preempt_count;      // 32: >0: no preemption (read sections, spinlocks, irqs)
    uint8_t need_resched;        // 36: a reschedule is wanted here

    int index;                   // 0..ncpu-1
    uint32_t apic_id;
    bool online = false;

    // Scheduling (sched.cc).
    spinlock runq_lock{"runq_lock"};
    list_head runq;              // runnable tasks waiting for this CPU
    unsigned nrunnable = 0;      // tasks on runq (+1 if current is not idle)
    proc* idle_task = nullptr;
    proc* migrating = nullptr;   // switched away from, to be queued on its new home (sched.cc)
    uint64_t schedule_count = 0; // passes through cpu::schedule
    uint64_t ticks = 0;          // timer interrupts taken
    uint64_t irqs = 0;           // interrupts taken (all vectors)
    bool in_idle = false;

    // Inter-processor function calls (apic.cc).
    void (*ipi_fn)(void*) = nullptr;
    void* ipi_arg = nullptr;
    std::atomic<uint64_t> ipi_calls_done{0};
    std::atomic<uint64_t> barrier_acks{0};   // INT_IPI_BARRIER handled (membarrier_all)

    rcu_cpu rcu;

    // Descriptor tables, stacks.
    uint64_t gdt[7];
    uint8_t tss[104];
    uintptr_t fault_stack_top;

    // schedule(preempted): the one place this CPU changes tasks (sched.cc).
    // `preempted`: the task did not ask to stop (timer, held-back
    // reschedule); it stays runnable even if it was about to sleep.
    void schedule(bool preempted = false);
};

extern cpu cpus[MAXCPU];
extern int ncpu;                 // CPUs running

// this_cpu_unchecked(): the running CPU's object, unchecked: for
// diagnostics (which CPU printed a line), where a stale answer is harmless.
inline cpu* this_cpu_unchecked() {
    cpu* c;
    asm volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}
// this_cpu_unpinned(): this_cpu()'s panic (lockdep.cc), naming the caller.
[[noreturn]] void this_cpu_unpinned();
// this_cpu(): the running CPU's object. The caller must not be able to
// migrate to another CPU while it uses the answer: preemption or
// interrupts must be disabled, and debug builds panic if neither is.
inline cpu* this_cpu() {
#if GRACE_DEBUG
    if (__builtin_expect(preempt_count() == 0, 0) && interrupts_enabled()) this_cpu_unpinned();
#endif
    return this_cpu_unchecked();
}
// this_cpu_index(): the CPU the caller runs on at this moment (it may move
// right after, unless preemption is disabled).
inline int this_cpu_index() {
    uint64_t f = irq_save();
    int i = this_cpu()->index;
    irq_restore(f);
    return i;
}
inline proc* current() {
    proc* p;
    asm volatile("movq %%gs:24, %0" : "=r"(p));
    return p;
}

// Set up this CPU's GDT, TSS, IDT and %gs (cpu.cc).
void cpu_init(cpu* c);
