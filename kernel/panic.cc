// kernel/panic.cc: panic, assertions, backtraces and kernel symbols.
//
// Symbols come from build/kernel.sym (`nm -n` of the kernel), which QEMU
// loads as a multiboot module; symbol_name() scans it for the last symbol
// at or below an address.
#include "kernel.hh"
#include "cpu.hh"
#include "console.hh"
#include "apic.hh"
#include "lockdep.hh"
#include "printf.hh"
#include "trace.hh"
#include <stdarg.h>
#include <atomic>

const char* ksyms_text;   // set by kernel_main from the multiboot module
size_t ksyms_len;
static std::atomic<int> panic_cpu{-1};

namespace {
bool parse_hex(const char* s, const char* e, uintptr_t* out) {
    uintptr_t v = 0;
    if (s == e) return false;
    for (; s < e; ++s) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + d;
    }
    *out = v;
    return true;
}
}

const char* symbol_name(uintptr_t addr, uintptr_t* offset) {
    // Lines: "ffffffff80101234 T name". Keep the best match's name in a
    // static buffer (only used while printing one backtrace at a time).
    static char best[96];
    uintptr_t best_addr = 0;
    const char* p = ksyms_text;
    const char* end = ksyms_text + ksyms_len;
    best[0] = 0;
    while (p && p < end) {
        const char* nl = p;
        while (nl < end && *nl != '\n') ++nl;
        uintptr_t a;
        if (nl - p > 19 && parse_hex(p, p + 16, &a) && a <= addr && a >= best_addr) {
            best_addr = a;
            size_t n = min<size_t>(nl - (p + 19), sizeof(best) - 1);
            memcpy(best, p + 19, n);
            best[n] = 0;
        }
        p = nl + 1;
    }
    if (!best[0]) return nullptr;
    *offset = addr - best_addr;
    return best;
}

void print_backtrace(uintptr_t rbp, int skip) {
    console_printf("  backtrace:\n");
    for (int depth = 0; depth < 32 && rbp >= PHYSBASE && !(rbp & 7); ++depth) {
        auto* frame = reinterpret_cast<uintptr_t*>(rbp);
        uintptr_t ret = frame[1];
        if (ret < KERNBASE) break;
        if (depth >= skip) {
            uintptr_t off = 0;
            const char* name = symbol_name(ret - 1, &off);
            console_printf("    #%d  %016lx  %s+%lu\n", depth - skip, ret,
                           name ? name : "?", name ? off + 1 : 0);
        }
        rbp = frame[0];
    }
}

void power_off(int code) {
    outl(0xf4, code);                      // isa-debug-exit: QEMU exits (code<<1)|1
    // Not under QEMU with isa-debug-exit: stop.
    for (;;) asm volatile("cli; hlt");
}

// stop_other_cpus(): halt every other CPU by IPI (a CPU spinning with
// interrupts off stops at its next sti), give them a moment, then write to the console without its
// lock so a stopped CPU that held it cannot block the panic message.
static void stop_other_cpus() {
    lapic_broadcast_ipi(INT_IPI_STOP);
    delay_us(2000);
    console_panic_mode();
}

// panic_stop(): the very end of every panic. Normally QEMU exits with the
// panic status. Under `make run-gdb` (boot option gdb=1) the machine must
// stay up so that GDB can attach and look at it: this CPU halts for good,
// like the others, which stop_other_cpus already halted.
[[noreturn]] static void panic_stop() {
    trace_dump("panic", true);         // the events that led here, if tracing
    if (!kopts.gdb) {
        console_printf("grace: power off: kernel panic\n");
        power_off(2);
    }
    console_printf("grace: kernel panic: every CPU halted (QEMU stays up for GDB: make gdb)\n");
    for (;;) asm volatile("cli; hlt");
}

// claim_panic(): only the first CPU to panic reports; any other CPU that
// panics meanwhile halts. A panic inside the panic (the same CPU) gives up.
static int claim_panic() {
    cli();
    int me = this_cpu()->index;
    int expected = -1;
    if (!panic_cpu.compare_exchange_strong(expected, me)) {
        if (expected != me || kopts.gdb) for (;;) asm volatile("cli; hlt");
        power_off(2);   // panic while panicking
    }
    lockdep_stop();     // the console's lock is taken however it can be now
    stop_other_cpus();
    return me;
}

// panic_finish(rbp): the shared end of panic and of a fault in kernel mode.
[[noreturn]] static void panic_finish(uintptr_t rbp) {
    print_backtrace(rbp);
    panic_stop();
}

void panic(const char* fmt, ...) {
    int me = claim_panic();
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_printf("\nPANIC: [cpu%d] %s\n", me, buf);
    panic_finish(read_rbp());
}

void assert_fail(const char* file, int line, const char* expr, const char* func) {
    panic("%s:%d: %s: assertion '%s' failed", file, line, func, expr);
}

// panic_trap(regs, what): an exception in kernel mode. Print the
// registers, then panic with a backtrace of the faulting code.
void panic_trap(regstate* r, const char* what) {
    int me = claim_panic();
    console_printf("\nPANIC: [cpu%d] kernel %s (vector %lu, error %lx) at %016lx",
                   me, what, r->reg_intno, r->reg_errcode, r->reg_rip);
    uintptr_t off = 0;
    if (const char* name = symbol_name(r->reg_rip, &off)) console_printf(" <%s+%lu>", name, off);
    console_printf("\n");
    if (r->reg_intno == INT_PF) console_printf("  cr2 %016lx\n", rdcr2());
    console_printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n"
                   "  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n"
                   "  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n"
                   "  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n"
                   "  rip %016lx cs %lx rflags %lx ss %lx\n",
                   r->reg_rax, r->reg_rbx, r->reg_rcx, r->reg_rdx,
                   r->reg_rsi, r->reg_rdi, r->reg_rbp, r->reg_rsp,
                   r->reg_r8, r->reg_r9, r->reg_r10, r->reg_r11,
                   r->reg_r12, r->reg_r13, r->reg_r14, r->reg_r15,
                   r->reg_rip, r->reg_cs, r->reg_rflags, r->reg_ss);
    // Start the backtrace at the faulting function itself.
    uintptr_t off2 = 0;
    const char* fn = symbol_name(r->reg_rip, &off2);
    console_printf("  backtrace:\n    #0  %016lx  %s+%lu\n", r->reg_rip, fn ? fn : "?", fn ? off2 : 0);
    print_backtrace(r->reg_rbp);
    panic_stop();
}
