// host/port/host_cpu.hh: the instructions of kernel/x86.hh that a host
// thread cannot run, or should not run as the kernel does. kernel/x86.hh
// includes this in the host build (GRACE_HOST) instead of its own.
//
// The interrupt flag. A thread that plays a CPU is never interrupted: the
// port's "interrupts" (an idle CPU's tick, the expedited grace period's
// IPI) run where the port chooses (host/port/port.hh). So the flag is a
// thread-local bool, right for the kernel's own use of it: irq_save and
// irq_restore nest, and code asks interrupts_enabled() before it sleeps
// or runs callbacks.
//
// cpu_relax(). A kernel CPU that spins waits for another CPU that is
// running. A host thread may spin on one the host has descheduled (there
// are more threads than cores), so every 64th pause it yields instead.
#pragma once
#include <sched.h>
#include <stdint.h>

// host_irqs_off: true between cli() and sti() on this thread.
inline thread_local bool host_irqs_off __attribute__((tls_model("initial-exec"))) = false;

inline uint64_t read_rflags() { return host_irqs_off ? 0 : EFLAGS_IF; }
inline void cli() {
    host_irqs_off = true;
    asm volatile("" ::: "memory");
}
inline void sti() {
    asm volatile("" ::: "memory");
    host_irqs_off = false;
}

inline thread_local unsigned host_spins __attribute__((tls_model("initial-exec"))) = 0;
inline void cpu_relax() {
    if (++host_spins % 64 == 0) sched_yield();
    else asm volatile("pause" ::: "memory");
}
