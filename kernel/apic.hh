// kernel/apic.hh: ACPI tables, the local APIC (timer, IPIs), the I/O APIC,
// and the calibrated clock.
#pragma once
#include <stdint.h>
#include <atomic>

// acpi_init(): find the CPUs and the I/O APIC in the ACPI MADT; fills
// cpus[i].apic_id for each CPU found and returns how many there are.
int acpi_find_cpus();

void lapic_init();                  // this CPU's local APIC, timer off
void lapic_timer_start(unsigned hz);// periodic timer on INT_TIMER
void lapic_eoi();
uint32_t lapic_id();
void lapic_send_ipi(int cpu_index, int vector);
void lapic_broadcast_ipi(int vector);   // to every other online CPU
// membarrier_all(): a full memory barrier on every other CPU, by IPI: when
// it returns, every store another CPU made before the call is visible. The
// heavy side of asymmetric fences (ls_hazptr.cc). Needs interrupts enabled.
void membarrier_all();

// A store held back as if in a CPU's store buffer, for the self-tests of
// code that must make such a store visible (ktest hazptr-store-buffer).
// x86-TSO lets a store wait in the buffer while later loads run, for
// nanoseconds; this makes the wait last until the CPU's next full barrier,
// every time. While CPU c is armed (store_buffer_arm(c)), the next
// store_buffer_hold(where, value) made on c records the store instead of
// making it (and returns true), and so does every later one to the same
// word on c, as stores wait in order; the store happens at c's next full
// barrier: the membarrier_all IPI, or store_buffer_drain(), which code
// calls right after a full fence of its own. Debug builds only: DEBUG=0
// never holds a store, and the calls compile to nothing.
#if GRACE_DEBUG
extern std::atomic<int> store_buffer_armed;     // the armed CPU, -1: none
extern std::atomic<int> store_buffer_holder;    // the CPU with a held store, -1: none
void store_buffer_arm(int cpu);
bool store_buffer_hold_word(void* where, uintptr_t value);
void store_buffer_drain_slow();
template <typename T>
inline bool store_buffer_hold(std::atomic<T*>& where, T* value) {
    static_assert(sizeof(std::atomic<T*>) == sizeof(uintptr_t));
    if (__builtin_expect(store_buffer_armed.load(std::memory_order_relaxed) < 0, 1)
        && __builtin_expect(store_buffer_holder.load(std::memory_order_relaxed) < 0, 1)) {
        return false;
    }
    return store_buffer_hold_word(&where, uintptr_t(value));
}
inline void store_buffer_drain() {
    if (__builtin_expect(store_buffer_holder.load(std::memory_order_relaxed) >= 0, 0)) {
        store_buffer_drain_slow();
    }
}
#else
inline void store_buffer_arm(int) {}
template <typename T>
inline bool store_buffer_hold(std::atomic<T*>&, T*) { return false; }
inline void store_buffer_drain() {}
#endif
// smp_mb(): a full memory barrier (mfence): every store this CPU made
// before it is visible to all CPUs before any load after it runs. Code that
// must make a store visible uses it rather than a bare
// std::atomic_thread_fence, so that a store a self-test holds back (above)
// is made by it too.
inline void smp_mb() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    store_buffer_drain();
}
void lapic_start_ap(uint32_t apic_id, uint32_t trampoline_pa);
// lapic_stop_ap(apic_id): an INIT IPI: that CPU stops wherever it is and
// waits for a startup IPI (smp.cc parks a CPU that came too late).
void lapic_stop_ap(uint32_t apic_id);
void ioapic_init();
void ioapic_route(int irq, int vector, int cpu_index);

// The clock: TSC calibrated against the PIT at boot.
void clock_calibrate();
uint64_t clock_ns();                // monotonic ns since boot, same on every CPU
void delay_us(uint64_t us);         // busy-wait
void delay_ns(uint64_t ns);         // busy-wait on clock_ns()
extern uint64_t tsc_per_sec;
