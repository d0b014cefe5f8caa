// kernel/kernel.hh: what every kernel file needs: logging, assertions,
// panic, and the kernel's boot options.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "x86.hh"
#include "abi.hh"
#include "string.hh"
#include "checksum.hh"

// log_printf(fmt, ...): print one line on the console, prefixed with the
// CPU that wrote it ("[cpu1] ..."). Lines from different CPUs never mix.
void log_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// console_printf: like log_printf but with no prefix and no implicit newline.
void console_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char* s, size_t n);

// panic(fmt, ...): print the message, the CPU and a symbolized backtrace,
// stop the other CPUs, and end QEMU with the "panic" status (with the boot
// option gdb=1, halt every CPU instead, so GDB can still attach).
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void assert_fail(const char* file, int line, const char* expr, const char* func);
// print_backtrace(rbp): print the call chain starting at frame pointer rbp.
void print_backtrace(uintptr_t rbp, int skip = 0);
// symbol_name(addr, &offset): the kernel function containing `addr`.
const char* symbol_name(uintptr_t addr, uintptr_t* offset);

#define assert(x) \
    do { if (__builtin_expect(!(x), 0)) assert_fail(__FILE__, __LINE__, #x, __func__); } while (0)

// PSET_TODO(n, what): the stub that `make handout` leaves where a student
// writes code (tools/handout.py) says, once per boot, that the part is not
// written yet, so a student reading the console knows why tests fail.
#define PSET_TODO(n, what)                                                           \
    do {                                                                              \
        static bool said_;                                                            \
        if (!__atomic_exchange_n(&said_, true, __ATOMIC_RELAXED))                     \
            log_printf("TODO (pset %d): %s is a stub; see psets/README.md", n, what); \
    } while (0)

// Boot options, from the kernel command line (`make run OPTS="hz=100"`).
// What each means, and the values it takes: the table in options.cc.
struct boot_options {
    unsigned hz = 1000;
    bool poison = true;
    unsigned rcu_stall_ms = 2000;
    bool ls_sync = false;
    bool hazptr_asym = false;
    bool gdb = false;
    unsigned trace = 0;          // trace classes (kernel/trace.hh: TC_rcu | ...)
    unsigned trace_buf = 4096;
    unsigned trace_port = 1;
    unsigned smp_late_ap = 0;    // test: the boot gives up on this CPU first (0: none)
    const char* init = "sh";     // the first process (after "--") and its arguments
    int init_argc = 0;
    const char* init_argv[16] = {};
};
extern boot_options kopts;
// parse_boot_options(cmdline): fill kopts from "<kernel> key=value ...
// [-- PROGRAM ARGS...]" (options.cc, where every option is listed).
void parse_boot_options(char* cmdline);

// power_off(code): end QEMU. code 0: init exited 0; 1: init failed; 2: panic.
[[noreturn]] void power_off(int code);

// run_ktest(name, arg): the self-test registered as `name` (or
// "busted:NAME"), see kernel/ktest/ktest.hh; -ENOENT if there is none.
long run_ktest(const char* name, long arg);

// strncpy_safe(dst, src, n): copy at most n-1 bytes and always terminate.
inline void strncpy_safe(char* dst, const char* src, size_t n) {
    size_t k = strnlen(src, n - 1);
    memcpy(dst, src, k);
    dst[k] = 0;
}

template <typename T> constexpr T round_up(T x, T m) { return (x + m - 1) / m * m; }
template <typename T> constexpr T round_down(T x, T m) { return x / m * m; }
template <typename T> constexpr T min(T a, T b) { return a < b ? a : b; }
template <typename T> constexpr T max(T a, T b) { return a > b ? a : b; }
