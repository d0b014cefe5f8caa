// kernel/cpu.cc: per-CPU descriptor tables and the `cpu` objects.
//
// GDT layout (the order is forced by syscall/sysret: STAR[47:32] = kernel
// CS with SS = CS+8; STAR[63:48]+8 = user SS, +16 = user CS):
//   0x00 null, 0x08 kernel code, 0x10 kernel data, 0x18 user data,
//   0x20 user code, 0x28 TSS (two slots).
#include "cpu.hh"
#include "kalloc.hh"

cpu cpus[MAXCPU];
int ncpu = 0;

static_assert(offsetof(cpu, self) == 0);
static_assert(offsetof(cpu, kernel_rsp) == 8);
static_assert(offsetof(cpu, user_rsp) == 16);
static_assert(offsetof(cpu, current) == 24);
static_assert(offsetof(cpu, preempt_count) == 32);
static_assert(offsetof(cpu, need_resched) == 36);

struct idt_gate { uint16_t off0, sel; uint8_t ist, type; uint16_t off1; uint32_t off2, zero; };
static idt_gate idt[256];
extern "C" char trap_entry_table_start[];
extern "C" void syscall_entry();

// idt_init(): one table shared by every CPU; entries are 16 bytes apart in
// entry.S. The double fault runs on its own stack (IST1) so a kernel
// stack overflow still reports itself.
static void idt_init() {
    for (int i = 0; i < 256; ++i) {
        uintptr_t a = uintptr_t(trap_entry_table_start) + 16 * i;
        idt[i] = {uint16_t(a), SEG_KCODE, uint8_t(i == INT_DF || i == INT_NMI ? 1 : 0),
                  uint8_t(i == INT_BP ? 0xee : 0x8e), uint16_t(a >> 16), uint32_t(a >> 32), 0};
    }
}

void cpu_init(cpu* c) {
    static bool idt_ready = false;
    if (!idt_ready) {
        idt_init();
        idt_ready = true;
    }
    c->self = c;
    c->gdt[0] = 0;
    c->gdt[1] = 0x00af9a000000ffffUL;   // kernel code, 64-bit
    c->gdt[2] = 0x00cf92000000ffffUL;   // kernel data
    c->gdt[3] = 0x00cff2000000ffffUL;   // user data
    c->gdt[4] = 0x00affa000000ffffUL;   // user code, 64-bit
    // TSS: IST1 = the fault stack.
    memset(c->tss, 0, sizeof(c->tss));
    void* fstack = kalloc_pages(4);
    assert(fstack);
    c->fault_stack_top = uintptr_t(fstack) + 4 * PAGESIZE;
    memcpy(c->tss + 36, &c->fault_stack_top, 8);      // ist1
    uint16_t iomap = sizeof(c->tss);
    memcpy(c->tss + 102, &iomap, 2);
    uintptr_t t = uintptr_t(c->tss);
    c->gdt[5] = (sizeof(c->tss) - 1) | ((t & 0xffffff) << 16) | (0x89UL << 40)
        | (((t >> 24) & 0xff) << 56);
    c->gdt[6] = t >> 32;

    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr{sizeof(c->gdt) - 1, uintptr_t(c->gdt)},
        idtr{sizeof(idt) - 1, uintptr_t(idt)};
    asm volatile("lgdt %0" :: "m"(gdtr));
    asm volatile("lidt %0" :: "m"(idtr));
    asm volatile("movw %0, %%ds; movw %0, %%es; movw %0, %%ss" :: "r"(uint16_t(SEG_KDATA)));
    asm volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
                 :: "i"(SEG_KCODE) : "rax", "memory");
    asm volatile("ltr %0" :: "r"(uint16_t(SEG_TSS)));
    asm volatile("movw %0, %%fs; movw %0, %%gs" :: "r"(uint16_t(0)));
    wrmsr(MSR_GS_BASE, uintptr_t(c));
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_FS_BASE, 0);
    // System calls. `syscall` clears the RFLAGS bits in SFMASK, so the
    // kernel never runs with flags user code chose: IF (off until entry.S
    // has switched stacks), DF (string instructions go up), TF (no
    // single-step trap in the kernel), AC (no alignment checks) and NT.
    // NT matters most: it survives a context switch (switch_stacks does
    // not save RFLAGS), and `iretq` with NT set is a #GP in long mode, so a
    // process that set NT with popf and then slept made the next task to
    // return from an interrupt on that CPU crash the kernel.
    wrmsr(MSR_STAR, (uint64_t(SEG_KCODE) << 32) | (uint64_t(SEG_UDATA - 8) << 48));
    wrmsr(MSR_LSTAR, uintptr_t(syscall_entry));
    wrmsr(MSR_SFMASK, EFLAGS_IF | EFLAGS_DF | EFLAGS_TF | EFLAGS_AC | EFLAGS_NT);
}

// set_kernel_stack(c, top): where this CPU enters the kernel from user
// mode, by interrupt (TSS rsp0) or by syscall (cpu::kernel_rsp).
void set_kernel_stack(cpu* c, uintptr_t top) {
    c->kernel_rsp = top;
    memcpy(c->tss + 4, &top, 8);
}
