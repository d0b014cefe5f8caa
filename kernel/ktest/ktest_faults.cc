// kernel/ktest/ktest_faults.cc: self-tests that crash the kernel on purpose, to
// show that a kernel fault prints a register dump and a backtrace, and that
// a triple fault ends the run instead of rebooting forever.
#include "ktest/ktest.hh"
#include "proc.hh"

namespace {
// ktest_kernel_fault: a page fault in kernel mode (a wild pointer).
[[gnu::noinline]] long ktest_kernel_fault() {
    volatile uint64_t* wild = reinterpret_cast<volatile uint64_t*>(0xdead0000UL);
    return long(*wild);
}
KTEST("kernel-fault", [](long) { return ktest_kernel_fault(); }, 0,
      "a kernel page fault: must PANIC with a register dump and a backtrace");

// ktest_triple_fault: with an empty IDT every exception is a triple fault;
// QEMU (-no-reboot -action reboot=shutdown) then exits without powering off.
[[gnu::noinline]] long ktest_triple_fault() {
    log_printf("ktest triple-fault: loading an empty IDT and faulting");
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty{0, 0};
    cli();
    asm volatile("lidt %0; int3" :: "m"(empty));
    return -1;
}
KTEST("triple-fault", [](long) { return ktest_triple_fault(); }, 0,
      "an exception with an empty IDT: QEMU must stop, not reboot forever");
}
