// lib/abi.hh -- constants shared by the Grace kernel and user programs:
// error numbers, system call numbers, and the "ls" (lock scheme) buffer
// experiment's size and scheme identifiers.  Header-only; anything here is
// part of the user/kernel ABI, so never renumber existing values.
#pragma once

#include <stddef.h>

// Error numbers (same values as Linux). A hosted <errno.h>, which <atomic>
// pulls in under C++20, defines the same names as macros with the same
// values: whichever comes first, the numbers agree.
#undef ENOENT
#undef ESRCH
#undef ECHILD
#undef EAGAIN
#undef ENOMEM
#undef EFAULT
#undef EINVAL
#undef ENOSYS
constexpr int ENOENT = 2;
constexpr int ESRCH = 3;
constexpr int ECHILD = 10;
constexpr int EAGAIN = 11;
constexpr int ENOMEM = 12;
constexpr int EFAULT = 14;
constexpr int EINVAL = 22;
constexpr int ENOSYS = 38;

// Size in bytes of the shared buffer read/written by SYS_LSREAD/SYS_LSWRITE.
constexpr size_t LS_SIZE = 10000;

// The largestruct schemes: the one list of them. Everything else derives
// from it: the LS_* constants, LS_NSCHEMES and ls_scheme_name/parse below,
// the kernel's check of its registry (kernel/ls/ls.cc), the user programs
// and, through tools/abi.py, the tests, benchmarks and GDB. One line per
// scheme, in number order:
//   X(NUMBER, CONSTANT, "name", kind, storage)
// NUMBER and name are the ABI (sys_lsread/sys_lswrite's first argument,
// and what programs accept): never change or reuse one. CONSTANT gives
// LS_CONSTANT. kind says what a reader may see:
//   consistent   always a whole struct that some write published, never a
//                torn or freed one (the tests require it);
//   unprotected  torn reads are allowed (`none`: the speed limit);
//   broken       wrong on purpose: the tests must catch it (`busted`).
// storage says how a write changes the struct:
//   in_place     one struct, overwritten: a write of up to 256 bytes
//                needs no memory (sys_lswrite copies it on the stack);
//   copies       each write allocates a new struct and publishes it: a
//                write may fail with -ENOMEM.
// Adding a scheme: one line here and one file kernel/ls/ls_NAME.cc that
// registers it (see kernel/ls/ls.hh). tools/abi.py parses these lines
// strictly: keep exactly this form, with no comments inside the macro.
#define LS_SCHEMES(X)                                   \
    X(0, RCU,      "rcu",      consistent,  copies)     \
    X(1, SPINLOCK, "spinlock", consistent,  in_place)   \
    X(2, RWLOCK,   "rwlock",   consistent,  in_place)   \
    X(3, HAZPTR,   "hazptr",   consistent,  copies)     \
    X(4, REFCOUNT, "refcount", consistent,  copies)     \
    X(5, DIFFREF,  "diffref",  consistent,  copies)     \
    X(6, LOPSIDED, "lopsided", consistent,  copies)     \
    X(7, NONE,     "none",     unprotected, in_place)   \
    X(8, BUSTED,   "busted",   broken,      copies)

enum class ls_kind : int { consistent, unprotected, broken };
enum class ls_storage : int { in_place, copies };

// One scheme's line of LS_SCHEMES.
struct ls_scheme_entry {
    int number;
    const char* constant;      // "LS_RCU"
    const char* name;          // "rcu"
    ls_kind kind;
    ls_storage storage;
};

#define LS_SCHEME_ENTRY_(number, constant, name, kind, storage) \
    {number, "LS_" #constant, name, ls_kind::kind, ls_storage::storage},
inline constexpr ls_scheme_entry LS_SCHEME_TABLE[] = {LS_SCHEMES(LS_SCHEME_ENTRY_)};
#undef LS_SCHEME_ENTRY_

#define LS_SCHEME_CONSTANT_(number, constant, name, kind, storage) \
    constexpr int LS_##constant = number;
LS_SCHEMES(LS_SCHEME_CONSTANT_)
#undef LS_SCHEME_CONSTANT_

constexpr int LS_NSCHEMES = int(sizeof(LS_SCHEME_TABLE) / sizeof(LS_SCHEME_TABLE[0]));

// ls_table_numbered(): whether line i of the table has number i, so that
// a scheme's number indexes LS_SCHEME_TABLE.
constexpr bool ls_table_numbered() {
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        if (LS_SCHEME_TABLE[s].number != s) return false;
    }
    return true;
}
static_assert(ls_table_numbered(), "LS_SCHEMES: the lines must be numbered 0, 1, 2, ... in order");

// ls_scheme_entry_of(s): scheme s's line of the table, or nullptr if s is
// out of range.
constexpr const ls_scheme_entry* ls_scheme_entry_of(int s) {
    return s >= 0 && s < LS_NSCHEMES ? &LS_SCHEME_TABLE[s] : nullptr;
}

// ls_scheme_name(s): the name of scheme s ("rcu", "spinlock", ...), or
// nullptr if s is out of range.
constexpr const char* ls_scheme_name(int s) {
    const ls_scheme_entry* e = ls_scheme_entry_of(s);
    return e ? e->name : nullptr;
}

// ls_names_equal(a, b): whether two C strings are equal (usable in
// constant expressions, with no lib/string dependency).
constexpr bool ls_names_equal(const char* a, const char* b) {
    if (a == nullptr || b == nullptr) return a == b;
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// ls_scheme_parse(name): the inverse of ls_scheme_name. Accepts a scheme
// name (exact, lower case) or a decimal scheme number such as "3". Returns
// the scheme, or -1 if `name` is null, unknown, or a number out of range.
// Self-contained (no lib/string dependency) so it works in any build.
constexpr int ls_scheme_parse(const char* name) {
    if (name == nullptr || name[0] == '\0') {
        return -1;
    }
    if (name[0] >= '0' && name[0] <= '9') {
        int v = 0;
        for (const char* p = name; *p != '\0'; ++p) {
            if (*p < '0' || *p > '9') {
                return -1;
            }
            v = v * 10 + (*p - '0');
            if (v >= LS_NSCHEMES) {
                return -1;
            }
        }
        return v;
    }
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        if (ls_names_equal(LS_SCHEME_TABLE[s].name, name)) {
            return s;
        }
    }
    return -1;
}

// The system calls: GRACE_SYSCALLS(X) calls X(NAME, number) once per
// call. It is the one list: the SYS_* numbers, NSYSCALL and
// syscall_defined() derive from it, the kernel's table (kernel/syscall.cc)
// is checked against it at compile time, and the programs that try
// numbers no call has (user/fuzz.cc, user/badptr.cc) compute them from it.
// Add a call at the end with a new number; never renumber one.
//   1..17: the ABI table; 100 on: Grace extensions (ktest, kstat, kprint).
#define GRACE_SYSCALLS(X)                                                          \
    X(GETPID, 1) X(GETPPID, 2) X(FORK, 3) X(EXEC, 4) X(EXIT, 5) X(WAITPID, 6)       \
    X(YIELD, 7) X(MSLEEP, 8) X(CLOCK_NS, 9) X(NCPU, 10) X(GETCPU, 11) X(SETCPU, 12) \
    X(WRITE, 13) X(READ, 14) X(LSREAD, 15) X(LSWRITE, 16) X(PROCINFO, 17)          \
    X(KTEST, 100) X(KSTAT, 101) X(KPRINT, 102)

// System call numbers: SYS_GETPID = 1, ...
enum syscall_number : int {
#define GRACE_SYSCALL_ENUM(name, nr) SYS_##name = nr,
    GRACE_SYSCALLS(GRACE_SYSCALL_ENUM)
#undef GRACE_SYSCALL_ENUM
};

// syscall_numbers: every defined call number, in GRACE_SYSCALLS order.
constexpr int syscall_numbers[] = {
#define GRACE_SYSCALL_NUMBER(name, nr) nr,
    GRACE_SYSCALLS(GRACE_SYSCALL_NUMBER)
#undef GRACE_SYSCALL_NUMBER
};
constexpr int NSYSCALL_DEFINED = sizeof(syscall_numbers) / sizeof(syscall_numbers[0]);

// NSYSCALL: one past the highest call number (the kernel's table size).
constexpr int syscall_max_number() {
    int m = 0;
    for (int n : syscall_numbers) m = n > m ? n : m;
    return m;
}
constexpr int NSYSCALL = syscall_max_number() + 1;

// syscall_defined(n): does call number n (all 64 bits) name a call?
constexpr bool syscall_defined(unsigned long long n) {
    for (int d : syscall_numbers) {
        if (n == static_cast<unsigned long long>(d)) return true;
    }
    return false;
}

// sys_kstat(what, arg): kernel statistics for tests and benchmarks
// (a Grace extension beyond the ABI table). `arg` is a CPU index where the
// statistic is per CPU. Returns the value, or -EINVAL.
enum kstat_id : int {
    KSTAT_FREE_PAGES = 0,      // free physical pages
    KSTAT_SCHEDULES = 1,       // passes through cpu::schedule on CPU arg
    KSTAT_TICKS = 2,           // timer interrupts on CPU arg
    KSTAT_HZ = 3,              // configured timer rate
    KSTAT_RCU_GP = 4,          // completed grace periods
    KSTAT_RCU_CB_PENDING = 5,  // callbacks waiting, all CPUs
    KSTAT_RCU_CB_HIGH = 6,     // largest per-CPU backlog seen
    KSTAT_RCU_CB_INVOKED = 7,  // callbacks run, all CPUs
    KSTAT_HEAP_BYTES = 8,      // small heap objects in use
    KSTAT_NPROCS = 9,          // processes that exist (incl. zombies)
    KSTAT_RCU_LONGEST_GP_NS = 10,
    KSTAT_IRQS = 11,           // interrupts on CPU arg
    KSTAT_PREEMPT_COUNT = 12,  // the caller's CPU preemption count (always 0 from user)
    KSTAT_RESERVE_PAGES = 13,  // free pages kept for the kernel: user allocations stop above
    KSTAT_NPROC_MAX = 14,      // the process table's size (fork: -EAGAIN beyond)
    KSTAT_USER_REFUSALS = 15,  // allocations for user programs refused so far (-ENOMEM)
    KSTAT_LAST_PID = 16,       // the highest pid handed out so far (pids are never reused)
    KSTAT_COUNT = 17           // (one past the last statistic)
};

// sys_procinfo(pid, info): what it fills in (docs/abi.md). The layout is
// the contract's: programs and the kernel share this declaration.
struct procinfo {
    int pid;
    int ppid;        // 0: no parent (process 1, kernel threads)
    int state;       // PS_RUNNING, PS_RUNNABLE, PS_SLEEPING or PS_ZOMBIE
    int cpu;         // the CPU it runs on or last ran on; -1 if it never ran
    char name[32];   // the program's name, NUL-terminated, cut to 31 characters
};
constexpr int PS_RUNNING = 0;    // on a CPU now
constexpr int PS_RUNNABLE = 1;   // waiting for a CPU
constexpr int PS_SLEEPING = 2;   // blocked or sleeping
constexpr int PS_ZOMBIE = 3;     // exited, not yet reaped by its parent
