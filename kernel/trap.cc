// kernel/trap.cc: what happens on an interrupt or exception.
//
// trap_dispatch() runs with interrupts off on the interrupted task's kernel
// stack. It raises the preemption count by PREEMPT_IRQ for the handler's
// duration (so handlers may use RCU read sections and spinlocks but never
// schedule), tells RCU about the interrupt, and, if the interrupted code
// was preemptible (count zero), reschedules on the way out when asked to.
#include "proc.hh"
#include "apic.hh"
#include "console.hh"
#include "tickhook.hh"
#include "trace.hh"

void panic_trap(regstate* r, const char* what);

extern "C" const tick_hook* const __tick_hooks_start[];
extern "C" const tick_hook* const __tick_hooks_end[];

void run_tick_hooks() {
    for (auto h = __tick_hooks_start; h != __tick_hooks_end; ++h) {
        if ((*h)->on->load(std::memory_order_relaxed)) (*h)->fn();
    }
}

static const char* exception_name(uint64_t v) {
    static const char* const names[] = {"divide error", "debug", "NMI", "breakpoint", "overflow",
        "bound range", "invalid opcode", "device not available", "double fault", "coprocessor",
        "invalid TSS", "segment not present", "stack fault", "general protection fault",
        "page fault", "reserved", "x87 error", "alignment check", "machine check", "SIMD error"};
    return v < sizeof(names) / sizeof(names[0]) ? names[v] : "exception";
}

extern "C" void trap_dispatch(regstate* r) {
    cpu* c = this_cpu();
    bool from_user = (r->reg_cs & 3) != 0;
    uint32_t interrupted_count = c->preempt_count;
    bool preemptible = interrupted_count == 0;

    if (r->reg_intno < 32) {
        if (!from_user) panic_trap(r, exception_name(r->reg_intno));
        // A fault in user code ends only that process.
        sti();
        proc_kill_current(r, exception_name(r->reg_intno));
    }

    c->preempt_count += PREEMPT_IRQ;
    ++c->irqs;
    rcu_irq_enter();
    switch (r->reg_intno) {
    case INT_TIMER:
        lapic_eoi();
        ++c->ticks;
        sched_tick();
        rcu_tick(preemptible);
        run_tick_hooks();
        break;
    case INT_IPI_RESCHED:
        lapic_eoi();
        c->need_resched = 1;
        if (preemptible) rcu_note_qs_from(qs_from::ipi);
        break;
    case INT_IPI_CALL: {
        lapic_eoi();
        void (*fn)(void*) = c->ipi_fn;
        if (fn) fn(c->ipi_arg);
        c->ipi_calls_done.fetch_add(1);
        break;
    }
    case INT_IPI_BARRIER:
        lapic_eoi();
        store_buffer_drain();           // (a store a self-test holds back, apic.hh)
        c->barrier_acks.fetch_add(1);   // locked: this CPU's earlier stores are visible
        break;
    case INT_IPI_STOP:
        for (;;) asm volatile("cli; hlt");
    case INT_IRQ0 + 4:
        console_interrupt();
        lapic_eoi();
        break;
    case INT_SPURIOUS:
        break;
    default:
        lapic_eoi();
        log_printf("unexpected interrupt %lu", r->reg_intno);
        break;
    }
    rcu_irq_exit();
    c->preempt_count -= PREEMPT_IRQ;
    // An interrupt that woke the idle loop from `hlt` returns to it: the
    // loop reschedules itself after rcu_idle_exit(). Switching tasks here
    // would run them while RCU still counts this CPU as idle.
    if (c->in_idle) return;
    if (preemptible && c->need_resched) {
        c->schedule(true);
    } else if (preemptible && rcu_cpu_has_work()) {
        // Callbacks run here, outside every read section (count was zero).
        sti();
        rcu_do_callbacks();
        cli();
    }
}
