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
// sys_procinfo(pid, info): task `pid`'s id, parent, state (PS_*), CPU and
// name in *info (struct procinfo, lib/abi.hh): 0; -ESRCH when no task has
// that pid (never created, or exited and reaped: a zombie is still found);
// -EFAULT for a bad `info`, and then nothing is written.
inline int sys_procinfo(int pid, procinfo* info) {
    return int(syscall4(SYS_PROCINFO, uint64_t(pid), uintptr_t(info)));
}
// Grace extensions (docs/abi.md, beyond the contract): kernel self-tests,
// statistics and tables.
inline long sys_ktest(const char* name, long arg = 0) { return syscall4(SYS_KTEST, uintptr_t(name), uint64_t(arg)); }
inline long sys_kstat(int what, long arg = 0) { return syscall4(SYS_KSTAT, uint64_t(what), uint64_t(arg)); }
// sys_kprint(table): the kernel prints one of its tables on the console:
// "programs" (the boot image's programs, the shell's `ls`), "processes"
// (the process table as the kernel sees it), "state" (CPUs, RCU and processes
// as the kernel sees them, for the GDB tests) or "tests" (the registered
// kernel self-tests, `ktest --list`). Returns 0; -EFAULT for a bad
// pointer; -EINVAL for any other name (64 characters or more included).
inline long sys_kprint(const char* table) { return syscall4(SYS_KPRINT, uintptr_t(table)); }

// unused_syscalls: call numbers that name no call, computed from
// GRACE_SYSCALLS (lib/abi.hh), so that a new call never turns up among
// them: 0 if free, both ends of every gap between calls (NSYSCALL is the
// end of the last), a little past NSYSCALL, large numbers, and every
// defined number with bit 32 or bit 63 set (the number is all 64 bits).
// A kernel must answer each with -ENOSYS (user/badptr.cc, user/fuzz.cc).
struct unused_syscalls {
    static constexpr int MAX = 5 * NSYSCALL_DEFINED + 8;
    uint64_t nr[MAX] = {};
    int n = 0;
    constexpr unused_syscalls() {
        for (uint64_t i = 0; i <= uint64_t(NSYSCALL); ++i) {
            bool gap_end = i == 0 || syscall_defined(i - 1) || syscall_defined(i + 1);
            if (!syscall_defined(i) && gap_end) add(i);
        }
        add(uint64_t(NSYSCALL) + 1);
        add(1000);
        add(0x80000000);
        add(~uint64_t(0));
        for (int d : syscall_numbers) {
            add((uint64_t(1) << 32) | uint64_t(d));
            add((uint64_t(1) << 63) | uint64_t(d));
        }
    }
    constexpr void add(uint64_t x) {
        for (int i = 0; i < n; ++i) {
            if (nr[i] == x) return;
        }
        if (!syscall_defined(x) && n < MAX) nr[n++] = x;
    }
};

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
