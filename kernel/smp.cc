// kernel/smp.cc: start the other CPUs.
//
// For each CPU the MADT listed, copy the real-mode trampoline to physical
// AP_TRAMPOLINE, fill in its page table root, stack and `cpu` pointer, and
// send INIT + two startup IPIs. The CPU arrives in ap_entry (main.cc),
// checks in (smp_ap_check_in) and sets `online`; CPUs are started one at a
// time, and the boot waits AP_TIMEOUT_NS for each.
//
// A CPU that has not checked in when the boot gives up on it is parked for
// good and never counted in ncpu: the boot sends it an INIT IPI, which
// leaves it waiting for a startup IPI (it may still be in the trampoline,
// which would fault once the boot drops the low identity map), turns the
// trampoline into a halt loop for the startup IPI that may still be
// pending, and says so on the console; if it reaches ap_entry all the same,
// it halts there with interrupts off. Counting it would need everything
// sized or looped by ncpu (RCU's masks, the run queues, the hazard slots)
// to take a CPU that appears later; leaving it running uncounted was
// worse, since it ran tasks that RCU never waited for. Who decides is one
// compare-and-swap on the CPU's start state, by the CPU checking in or by
// the boot giving up, whichever comes first.
#include "proc.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "smp.hh"

constexpr uintptr_t AP_TRAMPOLINE = 0x8000;
constexpr uint64_t AP_TIMEOUT_NS = 5000000000UL;
extern "C" char ap_tramp_start[], ap_tramp_end[], ap_tramp_data[];

namespace {
enum : int { AP_WAITING, AP_CHECKED_IN, AP_GIVEN_UP };
std::atomic<int> ap_state[MAXCPU];
}

// smp_ap_check_in(c): from CPU c in ap_entry: true if the boot still
// waits for it; false if it gave up on c, which must then park. (With
// the test option smp_late_ap=N, CPU N first waits until the boot has
// given up on it.)
bool smp_ap_check_in(cpu* c) {
    if (kopts.smp_late_ap == unsigned(c->index)) {
        while (ap_state[c->index].load() == AP_WAITING) cpu_relax();
    }
    int expected = AP_WAITING;
    return ap_state[c->index].compare_exchange_strong(expected, AP_CHECKED_IN);
}

// smp_park(c): CPU c came up too late to be counted: halt forever with
// interrupts off, touching nothing (the boot has said so, and its INIT
// IPI may stop this CPU at any instruction, even inside a lock).
void smp_park(cpu*) {
    for (;;) asm volatile("cli; hlt");
}

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
        uint64_t deadline = kopts.smp_late_ap == unsigned(i) ? 0 : clock_ns() + AP_TIMEOUT_NS;
        int expected = AP_WAITING;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
            // Past the deadline, give up, unless the CPU checked in first
            // (then it is on its way: wait for it).
            if (clock_ns() >= deadline
                && ap_state[i].compare_exchange_strong(expected, AP_GIVEN_UP)) {
                break;
            }
            expected = AP_WAITING;
            cpu_relax();
        }
        if (!c->online) {
            // A startup IPI the CPU has not acted on yet may still restart
            // it after the INIT (QEMU does): it then finds a halt loop.
            static const uint8_t halt_forever[] = {0xfa, 0xf4, 0xeb, 0xfd};   // cli; 1: hlt; jmp 1b
            memcpy(pa2kva(AP_TRAMPOLINE), halt_forever, sizeof(halt_forever));
            asm volatile("" ::: "memory");
            lapic_stop_ap(c->apic_id);
            log_printf("cpu %d (apic %u) did not start in %lu ms: parked for good with an INIT "
                       "IPI, not counted; the CPUs after it are not started", i, c->apic_id,
                       kopts.smp_late_ap == unsigned(i) ? 0 : AP_TIMEOUT_NS / 1000000);
            break;
        }
        ncpu = i + 1;
    }
}
