// kernel/main.cc: boot. kernel_main runs on the bootstrap CPU (boot.S calls
// it in long mode with the physical address of the multiboot information);
// ap_entry on every other CPU (smp.cc starts them). Each line is one step,
// in the order the steps depend on each other.
#include "proc.hh"
#include "vm.hh"
#include "apic.hh"
#include "console.hh"
#include "kalloc.hh"
#include "multiboot.hh"
#include "trace.hh"
#include "smp.hh"

extern "C" uint64_t boot_pml4[];
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();
void ls_init();

extern "C" [[noreturn]] void kernel_main(uint32_t mbi_pa) {
    for (auto fn = __init_array_start; fn != __init_array_end; ++fn) (*fn)();   // C++ constructors
    cpus[0].self = &cpus[0];                   // this_cpu() (%gs) works from here on
    wrmsr(MSR_GS_BASE, uintptr_t(&cpus[0]));
    console_init();                            // the serial console: printing works
    multiboot_read_options(mbi_pa);            // boot options (kopts)
    console_printf("\nGrace: booting (hz=%u poison=%d init=%s)\n", kopts.hz, kopts.poison, kopts.init);
    multiboot_read_memory(mbi_pa);             // symbols; free memory to the page allocator
    kernel_pagetable = boot_pml4;              // boot.S's page table is the kernel's
    cpu_init(&cpus[0]);                        // GDT, TSS, IDT
    lapic_init();                              // this CPU's interrupt controller
    ncpu = acpi_find_cpus();                   // the CPUs the firmware lists
    clock_calibrate();                         // TSC and APIC timer rates: clock_ns()
    trace_init();                              // event buffers, if the boot options ask
    ioapic_init();                             // device interrupts...
    ioapic_route(4, INT_IRQ0 + 4, 0);          // ...the serial port's to CPU 0
    console_enable_input();
    sched_init_cpu(&cpus[0]);                  // the idle task: a current task
    cpus[0].online = true;
    log_printf("online: apic %u, %zu MiB free, tsc %lu MHz, timer %u Hz",
               cpus[0].apic_id, pmem_free_pages() / 256, tsc_per_sec / 1000000, kopts.hz);
    smp_start_aps();                           // the other CPUs, one at a time
    kernel_pagetable[0] = 0;                   // drop the low identity map they needed
    wrcr3(rdcr3());
    ls_init();                                 // every scheme's all-zero largestruct
    proc_start_init(kopts.init, kopts.init_argc, kopts.init_argv);   // process 1
    lapic_timer_start(kopts.hz);               // ticks: preemption, RCU, sleeping
    log_printf("%d CPUs online, starting %s", ncpu, kopts.init);
    idle_loop();
}

// ap_entry(c): each other CPU arrives here from boot/ap_trampoline.S.
extern "C" [[noreturn]] void ap_entry(cpu* c) {
    wrmsr(MSR_GS_BASE, uintptr_t(c));          // this_cpu() is c
    cpu_init(c);
    lapic_init();
    if (!smp_ap_check_in(c)) smp_park(c);      // too late: the boot gave up on it
    sched_init_cpu(c);
    log_printf("online: apic %u", c->apic_id);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);   // smp_start_aps goes on
    lapic_timer_start(kopts.hz);
    idle_loop();
}
