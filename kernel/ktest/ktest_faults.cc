// kernel/ktest/ktest_faults.cc: self-tests that crash the kernel on purpose, to
// show that a kernel fault prints a register dump and a backtrace, and that
// a triple fault ends the run instead of rebooting forever.
#include "proc.hh"

namespace {
// ktest_kernel_fault: a page fault in kernel mode (a wild pointer).
[[gnu::noinline]] long ktest_kernel_fault() {
    volatile uint64_t* wild = reinterpret_cast<volatile uint64_t*>(0xdead0000UL);
    return long(*wild);
}

// ktest_triple_fault: with an empty IDT every exception is a triple fault;
// QEMU (-no-reboot -action reboot=shutdown) then exits without powering off.
[[gnu::noinline]] long ktest_triple_fault() {
    log_printf("ktest triple-fault: loading an empty IDT and faulting");
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty{0, 0};
    cli();
    asm volatile("lidt %0; int3" :: "m"(empty));
    return -1;
}
}

long ktest_faults(const char* name, long) {
    if (strcmp(name, "kernel-fault") == 0) return ktest_kernel_fault();
    if (strcmp(name, "triple-fault") == 0) return ktest_triple_fault();
    return -ENOENT;
}
