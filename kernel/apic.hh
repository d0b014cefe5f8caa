// kernel/apic.hh: ACPI tables, the local APIC (timer, IPIs), the I/O APIC,
// and the calibrated clock.
#pragma once
#include <stdint.h>

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
void lapic_start_ap(uint32_t apic_id, uint32_t trampoline_pa);
void ioapic_init();
void ioapic_route(int irq, int vector, int cpu_index);

// The clock: TSC calibrated against the PIT at boot.
void clock_calibrate();
uint64_t clock_ns();                // monotonic ns since boot, same on every CPU
void delay_us(uint64_t us);         // busy-wait
void delay_ns(uint64_t ns);         // busy-wait on clock_ns()
extern uint64_t tsc_per_sec;
