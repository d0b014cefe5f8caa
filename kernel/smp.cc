// kernel/smp.cc: start the other CPUs.
//
// For each CPU the MADT listed, copy the real-mode trampoline to physical
// AP_TRAMPOLINE, fill in its page table root, stack and `cpu` pointer, and
// send INIT + two startup IPIs. The CPU arrives in ap_entry (main.cc),
// checks in (smp_ap_check_in) and sets `online`; CPUs are started one at a
// time, and the boot waits AP_TIMEOUT_NS for each.
//
// A CPU that checks in after the boot gave up on it is parked for good:
// it halts with interrupts off and is never counted in ncpu. Counting it
// would need everything sized or looped by ncpu (RCU's masks, the run
// queues, the hazard slots) to take a CPU that appears later; leaving it
// running uncounted was worse, since it ran tasks that RCU never waited
// for. Who decides is one compare-and-swap on the CPU's start state, by
// the CPU checking in or by the boot giving up, whichever comes first.
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
std::atomic<int> parked{0};
}

int smp_parked_cpus() { return parked.load(); }

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

// smp_park(c): CPU c came up too late to be counted: say so, and halt
// forever with interrupts off (it has no timer and takes no IPIs).
void smp_park(cpu* c) {
    log_printf("cpu %d (apic %u) came up after the boot gave up on it: parked for good, "
               "not counted in the %d CPUs online", c->index, c->apic_id, ncpu);
    parked.fetch_add(1);
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
            if (clock_ns() >= deadline && ap_state[i].compare_exchange_strong(expected, AP_GIVEN_UP)) {
                break;
            }
            expected = AP_WAITING;
            cpu_relax();
        }
        if (!c->online) {
            log_printf("cpu %d (apic %u) did not start in %lu ms: not counted; the CPUs after it "
                       "are not started", i, c->apic_id, AP_TIMEOUT_NS / 1000000);
            break;
        }
        ncpu = i + 1;
    }
}
