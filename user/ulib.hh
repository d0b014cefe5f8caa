// user/ulib.hh: everything a Grace program needs. The contract it
// implements is docs/abi.md: system call wrappers (a negative errno on
// failure), printf, ls_checksum and the LS_* scheme constants.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include "abi.hh"
#include "checksum.hh"
#include "printf.hh"
#include "string.hh"

// The raw system call: number in rax, arguments in rdi, rsi, rdx, r10.
inline long syscall4(long n, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
    long r;
    register uint64_t r10 asm("r10") = d;
    asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                 : "rcx", "r11", "r8", "r9", "memory");
    return r;
}

inline int sys_getpid() { return int(syscall4(SYS_GETPID)); }
inline int sys_getppid() { return int(syscall4(SYS_GETPPID)); }
inline int sys_fork() { return int(syscall4(SYS_FORK)); }
inline int sys_exec(const char* name, const char* const* argv) {
    return int(syscall4(SYS_EXEC, uintptr_t(name), uintptr_t(argv)));
}
[[noreturn]] inline void sys_exit(int status) {
    syscall4(SYS_EXIT, uint64_t(status));
    __builtin_unreachable();
}
inline int sys_waitpid(int pid, int* status) { return int(syscall4(SYS_WAITPID, pid, uintptr_t(status))); }
inline int sys_yield() { return int(syscall4(SYS_YIELD)); }
inline int sys_msleep(unsigned ms) { return int(syscall4(SYS_MSLEEP, ms)); }
inline uint64_t sys_clock_ns() { return uint64_t(syscall4(SYS_CLOCK_NS)); }
inline int sys_ncpu() { return int(syscall4(SYS_NCPU)); }
inline int sys_getcpu() { return int(syscall4(SYS_GETCPU)); }
inline int sys_setcpu(int cpu) { return int(syscall4(SYS_SETCPU, uint64_t(cpu))); }
inline long sys_write(int fd, const void* buf, size_t n) { return syscall4(SYS_WRITE, fd, uintptr_t(buf), n); }
inline long sys_read(int fd, void* buf, size_t n) { return syscall4(SYS_READ, fd, uintptr_t(buf), n); }
inline long sys_lsread(int scheme, size_t len) { return syscall4(SYS_LSREAD, uint64_t(scheme), len); }
inline long sys_lswrite(int scheme, const void* buf, size_t len) {
    return syscall4(SYS_LSWRITE, uint64_t(scheme), uintptr_t(buf), len);
}
// Grace extensions (docs/abi.md, beyond the contract): kernel self-tests and statistics.
inline long sys_ktest(const char* name, long arg = 0) { return syscall4(SYS_KTEST, uintptr_t(name), uint64_t(arg)); }
inline long sys_kstat(int what, long arg = 0) { return syscall4(SYS_KSTAT, uint64_t(what), uint64_t(arg)); }

// printf to the console (fd 1); a line is written in one sys_write, so
// lines from different processes do not mix.
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int dprintf(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int vdprintf(int fd, const char* fmt, va_list ap);
// die(fmt, ...): print "NAME: message" to fd 2 and exit 1.
[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char* progname;

// Small helpers for programs.
// spawn(name, argv): fork + exec; returns the child's pid or -errno.
int spawn(const char* name, const char* const* argv);
// xorshift random numbers.
uint64_t rand64(uint64_t* state);
long atol_or(const char* s, long fallback);
// fault_in_child(what, fn, expected, alternative): fork a child that runs
// fn, which must fault; wait for it and print "PROG: child PID (WHAT):
// status S, expected E[ or A]: ok|FAILED". True if the status is
// `expected` (or `alternative`, when >= 0). Used by nullderef and faults.
bool fault_in_child(const char* what, void (*fn)(), int expected, int alternative = -1);
// normal_child_exits(): fork a child that exits 0 at once and wait for it:
// after faults, fork, exit and wait still work. Says FAILED if not.
bool normal_child_exits();
