// host/port/port.hh: the host build's port layer: Linux threads play
// Grace's CPUs, so that kernel/rcu.cc and the schemes in kernel/ls/ run,
// unchanged, as an ordinary program (for ThreadSanitizer, AddressSanitizer
// and benchmarks on real hardware).
//
// THE MODEL. The kernel finds quiescent states where a CPU passes through
// cpu::schedule, the idle loop, or a timer tick with its preemption count
// at zero. A host thread has none of these on its own, so it announces
// them: it calls host_quiescent_state() at points where it holds no RCU
// pointer, and host_cpu_offline() before it blocks for a while. This is
// the quiescent-state-based model of liburcu's urcu-qsbr flavor: between
// two of its quiescent points an online thread counts as a reader, with or
// without rcu_read_lock.
//
// WHAT STANDS FOR WHAT.
//  - A CPU is one of the kernel's own `cpus[MAXCPU]` objects (kernel/cpu.hh),
//    and ncpu is MAXCPU. A thread that attaches (host_cpu_attach) takes a
//    free one and keeps it until it detaches; the CPUs no thread has stay
//    idle, in RCU's extended quiescent state, so grace periods never wait
//    for them. MAXCPU - 1 attached threads at most: the last CPU is the
//    ticker's (below). The port does not pin a thread to a host core (the
//    thread is the CPU, wherever the host runs it); host_bench pins its
//    threads itself.
//  - %gs: the thread's %gs base is set to its CPU object (arch_prctl, or
//    wrgsbase where the host allows it). this_cpu(), current() and the
//    preemption count are therefore the kernel's own instructions, and the
//    read sides a host benchmark measures are byte for byte the kernel's.
//  - Interrupts: there are none. The interrupt flag is a thread-local bool,
//    and cpu_relax() yields now and then (host_cpu.hh, which kernel/x86.hh
//    includes under GRACE_HOST instead of its own instructions).
//  - cpu::schedule is host_quiescent_state(): rcu_note_qs() and this CPU's
//    ready callbacks. The held-back reschedule (preempt_schedule, run by
//    the outermost rcu_read_unlock when need_resched is set) is a quiescent
//    state too, as in the kernel.
//  - The idle loop is host_cpu_offline()/host_cpu_online(): the CPU enters
//    and leaves RCU's extended quiescent state (rcu_idle_enter/exit), and
//    while it is offline another thread may run it. A thread that blocks in
//    a wait queue (synchronize_rcu's) or in msleep goes offline meanwhile;
//    yield() is a quiescent state.
//  - The timer tick is the ticker, one port thread that wakes kopts.hz
//    times a second. For each CPU the running grace period still waits
//    for: if its thread is offline, the ticker takes the CPU and runs what
//    an idle CPU runs on a timer interrupt (rcu_irq_enter, rcu_tick, then
//    one pass of the idle loop with its callbacks); if its thread is
//    online, it sets that CPU's need_resched, as the kernel's tick does, so
//    that the outermost rcu_read_unlock reports. It also runs the callbacks
//    left on offline CPUs, and runs its own CPU's tick (the stall warning).
//  - IPIs: lapic_send_ipi(i, INT_IPI_RESCHED) (synchronize_rcu_expedited)
//    sets CPU i's need_resched and, if its thread is offline, wakes the
//    ticker at once: a flag checked at the next quiescent point.
//  - Wait queues are the kernel's (kernel/waitqueue.cc); a blocked task
//    sleeps on its proc's state word with std::atomic::wait (a futex), and
//    wake_proc wakes it.
//  - Memory: kmalloc is operator new (so a scheme's `delete` matches it for
//    AddressSanitizer), and memory is never low. membarrier_all() is
//    Linux's membarrier(2).
// A kernel function the host build lacks is one line in host/port/stubs.cc.
#pragma once
#include "cpu.hh"

// host_cpu_attach(): this thread becomes a CPU (the lowest free one), online;
// returns its index. Panics if it already is one, or if all are taken.
int host_cpu_attach();
// host_cpu_detach(): this thread stops being a CPU. Its CPU goes offline;
// callbacks it queued run later on the ticker or the CPU's next thread.
void host_cpu_detach();
// host_cpu_is_attached(): whether this thread is a CPU (online or not).
bool host_cpu_is_attached();

// host_cpu_offline(): this CPU enters RCU's extended quiescent state (the
// idle loop): grace periods stop waiting for it. No read section may be
// open, and until host_cpu_online() the thread must not touch RCU data.
void host_cpu_offline();
// host_cpu_online(): this CPU leaves its extended quiescent state.
void host_cpu_online();
// host_cpu_is_online(): whether this thread is an online CPU.
bool host_cpu_is_online();

// host_quiescent_state(): a quiescent point (cpu::schedule): this CPU holds
// no RCU pointer now. Runs its ready callbacks. Not inside a read section.
void host_quiescent_state();

// host_options(s): apply boot options "name=value ..." (kernel/options.cc's
// table: ls_sync=1, hazptr_asym=1, rcu_stall_ms=N, hz=N) before the first
// thread attaches. The first attach applies those of the environment
// variable GRACE_OPTS.
void host_options(const char* s);

// RAII: this thread is a CPU for the scope.
class [[nodiscard]] host_cpu_guard {
public:
    host_cpu_guard() { host_cpu_attach(); }
    ~host_cpu_guard() { host_cpu_detach(); }
    host_cpu_guard(const host_cpu_guard&) = delete;
    host_cpu_guard& operator=(const host_cpu_guard&) = delete;
};

// RAII: this CPU is offline (in an extended quiescent state) for the scope.
class [[nodiscard]] host_offline_guard {
public:
    host_offline_guard() { host_cpu_offline(); }
    ~host_offline_guard() { host_cpu_online(); }
    host_offline_guard(const host_offline_guard&) = delete;
    host_offline_guard& operator=(const host_offline_guard&) = delete;
};
