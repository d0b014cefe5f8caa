// kernel/x86.hh: thin wrappers for x86-64 instructions, registers and
// hardware constants. Nothing here knows about Grace's data structures.
#pragma once
#include <stdint.h>
#include <stddef.h>

// Where things live in the virtual address space.
constexpr uintptr_t KERNBASE = 0xffffffff80000000UL;  // kernel image: KERNBASE + pa
constexpr uintptr_t PHYSBASE = 0xffff800000000000UL;  // direct map of all physical memory
constexpr uintptr_t USER_TOP = 0x0000800000000000UL;  // user addresses are below this
constexpr size_t PAGESIZE = 4096;

// pa2kva(pa): the direct-map address of physical address `pa`.
template <typename T = void>
inline T* pa2kva(uintptr_t pa) { return reinterpret_cast<T*>(pa + PHYSBASE); }
// kva2pa(p): the physical address of a direct-map or kernel-image pointer.
inline uintptr_t kva2pa(const void* p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    return a >= KERNBASE ? a - KERNBASE : a - PHYSBASE;
}

// Page-table entry bits.
constexpr uint64_t PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_PWT = 8, PTE_PCD = 16,
                   PTE_A = 32, PTE_D = 64, PTE_PS = 128, PTE_G = 256,
                   PTE_NX = 1UL << 63;
constexpr uint64_t PTE_ADDR = 0x000ffffffffff000UL;

// Segment selectors (see cpu.cc for the GDT layout; the order is what
// `syscall`/`sysret` require).
constexpr uint16_t SEG_KCODE = 0x08, SEG_KDATA = 0x10,
                   SEG_UDATA = 0x18 | 3, SEG_UCODE = 0x20 | 3, SEG_TSS = 0x28;

// MSRs.
constexpr uint32_t MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081,
                   MSR_LSTAR = 0xc0000082, MSR_SFMASK = 0xc0000084,
                   MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
                   MSR_KERNEL_GS_BASE = 0xc0000102, MSR_APIC_BASE = 0x1b;

constexpr uint64_t EFLAGS_TF = 0x100, EFLAGS_IF = 0x200, EFLAGS_DF = 0x400,
                   EFLAGS_NT = 0x4000, EFLAGS_AC = 0x40000;

// The registers an interrupt, exception or system call saves, in the
// order trap.S pushes them (lowest address first).
struct regstate {
    uint64_t reg_rax, reg_rcx, reg_rdx, reg_rbx, reg_rbp, reg_rsi, reg_rdi,
        reg_r8, reg_r9, reg_r10, reg_r11, reg_r12, reg_r13, reg_r14, reg_r15;
    uint64_t reg_intno, reg_errcode;
    // pushed by the CPU
    uint64_t reg_rip, reg_cs, reg_rflags, reg_rsp, reg_ss;
};

// Exception vectors.
enum : int {
    INT_DE = 0, INT_DB = 1, INT_NMI = 2, INT_BP = 3, INT_UD = 6, INT_DF = 8,
    INT_GP = 13, INT_PF = 14,
    INT_IRQ0 = 32,          // IRQ n of the I/O APIC arrives at 32 + n
    INT_TIMER = 48,         // local APIC timer
    INT_IPI_RESCHED = 49,   // "look at your run queue / need_resched"
    INT_IPI_CALL = 50,      // run the function in cpu::ipi_fn
    INT_IPI_STOP = 51,      // panic elsewhere: halt forever
    INT_IPI_BARRIER = 52,   // membarrier_all(): acknowledge with a locked add
    INT_SPURIOUS = 255,
};

inline uint8_t inb(uint16_t port) {
    uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v;
}
inline void outb(uint16_t port, uint8_t v) {
    asm volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}
inline void outl(uint16_t port, uint32_t v) {
    asm volatile("outl %0, %1" :: "a"(v), "Nd"(port));
}
inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi; asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
    asm volatile("wrmsr" :: "c"(msr), "a"(uint32_t(v)), "d"(uint32_t(v >> 32)));
}
inline uint64_t rdtsc() {
    uint32_t lo, hi; asm volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t(hi) << 32) | lo;
}
inline uint64_t rdcr2() { uint64_t v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
inline uint64_t rdcr3() { uint64_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
inline void wrcr3(uint64_t v) { asm volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
#if GRACE_HOST
// The host build (host/port/): a thread plays a CPU and has no interrupts;
// its interrupt flag is a thread-local bool that these three read and set,
// and a spinning thread yields now and then to the one it waits for.
#include "host_cpu.hh"
#else
inline uint64_t read_rflags() {
    uint64_t f; asm volatile("pushfq; popq %0" : "=r"(f)); return f;
}
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void cpu_relax() { asm volatile("pause" ::: "memory"); }
#endif
inline bool interrupts_enabled() { return read_rflags() & EFLAGS_IF; }
inline void compiler_barrier() { asm volatile("" ::: "memory"); }
inline uintptr_t read_rbp() { uintptr_t v; asm volatile("mov %%rbp, %0" : "=r"(v)); return v; }

// irq_save/irq_restore: disable interrupts and later put them back as they
// were. Used by spinlocks and by code that touches per-CPU state.
[[nodiscard]] inline uint64_t irq_save() { uint64_t f = read_rflags(); cli(); return f; }
inline void irq_restore(uint64_t f) { if (f & EFLAGS_IF) sti(); }

// Raise and lower interrupts-off scopes with RAII.
class irq_guard {
public:
    irq_guard() : flags_(irq_save()) {}
    ~irq_guard() { irq_restore(flags_); }
    irq_guard(const irq_guard&) = delete;
    irq_guard& operator=(const irq_guard&) = delete;
private:
    uint64_t flags_;
};
