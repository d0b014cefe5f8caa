// kernel/main.cc: boot. kernel_main runs on the bootstrap CPU (boot.S calls
// it in long mode with the multiboot info); ap_entry on every other CPU.
#include "proc.hh"
#include "vm.hh"
#include "apic.hh"
#include "console.hh"
#include "kalloc.hh"

boot_options kopts;
extern const char* ksyms_text;
extern size_t ksyms_len;
extern "C" char _kernel_start[], _end[];
extern "C" uint64_t boot_pml4[];
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();
void smp_start_aps();
void ls_init();

namespace {
struct __attribute__((packed)) multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
struct __attribute__((packed)) multiboot_mmap { uint32_t size; uint64_t addr, len; uint32_t type; };
struct __attribute__((packed)) multiboot_mod { uint32_t start, end, string, reserved; };

char cmdline_copy[512];

// parse_cmdline(): "<kernel file> grace key=value ... [-- PROGRAM ARGS...]"
void parse_cmdline(char* s) {
    char* tok[64];
    int n = 0;
    while (*s && n < 64) {
        while (*s == ' ') *s++ = 0;
        if (!*s) break;
        tok[n++] = s;
        while (*s && *s != ' ') ++s;
    }
    for (int i = 1; i < n; ++i) {
        if (strcmp(tok[i], "--") == 0) {
            if (i + 1 < n) kopts.init = tok[i + 1];
            for (int j = i + 1; j < n && kopts.init_argc < 15; ++j) {
                kopts.init_argv[kopts.init_argc++] = tok[j];
            }
            break;
        }
        char* eq = strchr(tok[i], '=');
        if (!eq) continue;                         // "grace", the kernel's own name
        *eq = 0;
        const char* key = tok[i];
        long v = 0;
        bool num = parse_long(eq + 1, &v);
        if (strcmp(key, "hz") == 0 && num && v >= 10 && v <= 10000) kopts.hz = v;
        else if (strcmp(key, "poison") == 0 && num) kopts.poison = v != 0;
        else if (strcmp(key, "rcu_stall_ms") == 0 && num && v > 0) kopts.rcu_stall_ms = v;
        else if (strcmp(key, "ls_sync") == 0 && num) kopts.ls_sync = v != 0;
        else if (strcmp(key, "hazptr_asym") == 0 && num) kopts.hazptr_asym = v != 0;
        else if (strcmp(key, "gdb") == 0 && num) kopts.gdb = v != 0;
        else console_printf("grace: ignoring unknown or bad boot option '%s=%s'\n", key, eq + 1);
    }
    if (kopts.init_argc == 0) kopts.init_argv[kopts.init_argc++] = kopts.init;
}
}

extern "C" [[noreturn]] void kernel_main(uint32_t mbi_pa) {
    for (auto fn = __init_array_start; fn != __init_array_end; ++fn) (*fn)();
    cpu* c0 = &cpus[0];
    c0->self = c0;
    c0->index = 0;
    wrmsr(MSR_GS_BASE, uintptr_t(c0));
    console_init();

    auto* mbi = pa2kva<multiboot_info>(mbi_pa);
    if (mbi->flags & (1 << 2)) {
        strncpy_safe(cmdline_copy, pa2kva<const char>(mbi->cmdline), sizeof(cmdline_copy));
        parse_cmdline(cmdline_copy);
    }
    console_printf("\nGrace: booting (hz=%u poison=%d init=%s)\n", kopts.hz, kopts.poison, kopts.init);

    // Memory above everything the boot loader placed (kernel, modules, info).
    uintptr_t reserved = kva2pa(_end);
    if (mbi->flags & (1 << 3)) {
        auto* mods = pa2kva<multiboot_mod>(mbi->mods_addr);
        for (uint32_t i = 0; i < mbi->mods_count; ++i) {
            reserved = max<uintptr_t>(reserved, mods[i].end);
            if (i == 0) {
                ksyms_text = pa2kva<const char>(mods[0].start);
                ksyms_len = mods[0].end - mods[0].start;
            }
        }
    }
    reserved = max<uintptr_t>(reserved, mbi_pa + 4096);
    assert(mbi->flags & (1 << 6));
    for (uint32_t off = 0; off < mbi->mmap_length;) {
        auto* m = pa2kva<multiboot_mmap>(mbi->mmap_addr + off);
        if (m->type == 1 && m->addr + m->len > reserved) {
            uintptr_t start = max<uintptr_t>(m->addr, reserved);
            uintptr_t end = min<uintptr_t>(m->addr + m->len, 0x100000000UL);   // direct map: 4 GiB
            if (start < end) pmem_add_range(start, end);
        }
        off += m->size + 4;
    }
    pmem_init_done();
    kernel_pagetable = boot_pml4;

    cpu_init(c0);
    lapic_init();
    ncpu = acpi_find_cpus();
    clock_calibrate();
    ioapic_init();
    ioapic_route(4, INT_IRQ0 + 4, 0);
    console_enable_input();
    sched_init_cpu(c0);
    c0->online = true;
    log_printf("online: apic %u, %zu MiB free, tsc %lu MHz, timer %u Hz",
               c0->apic_id, pmem_free_pages() / 256, tsc_per_sec / 1000000, kopts.hz);
    smp_start_aps();
    // The low identity map was only for the mode switch and the APs.
    kernel_pagetable[0] = 0;
    wrcr3(rdcr3());

    ls_init();
    proc_start_init(kopts.init, kopts.init_argc, kopts.init_argv);
    lapic_timer_start(kopts.hz);
    log_printf("%d CPUs online, starting %s", ncpu, kopts.init);
    idle_loop();
}

// ap_entry(c): each other CPU arrives here from boot/ap_trampoline.S.
extern "C" [[noreturn]] void ap_entry(cpu* c) {
    wrmsr(MSR_GS_BASE, uintptr_t(c));
    cpu_init(c);
    lapic_init();
    sched_init_cpu(c);
    log_printf("online: apic %u", c->apic_id);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    lapic_timer_start(kopts.hz);
    idle_loop();
}
