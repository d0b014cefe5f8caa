// kernel/smp.cc: start the other CPUs.
//
// For each CPU the MADT listed, copy the real-mode trampoline to physical
// AP_TRAMPOLINE, fill in its page table root, stack and `cpu` pointer, and
// send INIT + two startup IPIs. The CPU arrives in ap_entry (main.cc) and
// sets `online`; CPUs are started one at a time.
#include "proc.hh"
#include "apic.hh"
#include "kalloc.hh"

constexpr uintptr_t AP_TRAMPOLINE = 0x8000;
extern "C" char ap_tramp_start[], ap_tramp_end[], ap_tramp_data[];

void smp_start_aps() {
    int found = ncpu;
    ncpu = 1;
    size_t size = ap_tramp_end - ap_tramp_start;
    memcpy(pa2kva(AP_TRAMPOLINE), ap_tramp_start, size);
    auto* data = pa2kva<uint64_t>(AP_TRAMPOLINE + (ap_tramp_data - ap_tramp_start));
    for (int i = 1; i < found; ++i) {
        cpu* c = &cpus[i];
        c->self = c;
        c->index = i;
        void* stack = kalloc_pages(KSTACK_PAGES);
        assert(stack);
        data[0] = rdcr3();
        data[1] = uintptr_t(stack) + KSTACK_SIZE;
        data[2] = uintptr_t(c);
        asm volatile("" ::: "memory");
        lapic_start_ap(c->apic_id, AP_TRAMPOLINE);
        uint64_t deadline = clock_ns() + 5000000000UL;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && clock_ns() < deadline) cpu_relax();
        if (!c->online) {
            log_printf("cpu %d (apic %u) did not start", i, c->apic_id);
            break;
        }
        ncpu = i + 1;
    }
}
