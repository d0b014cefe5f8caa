// kernel/syscall.cc: the system call table and the calls themselves.
//
// syscall_entry (entry.S) saves the user registers in a regstate at the
// top of the task's kernel stack and calls syscall_dispatch, which looks
// the number up in one table. Every pointer argument is checked with
// user_range_ok/user_string_ok before use: a bad one is -EFAULT, never a
// kernel fault. The call numbers are GRACE_SYSCALLS in lib/abi.hh; the
// largestruct calls live in ls/ls.cc, sys_kstat in kstat.cc, sys_kprint's
// tables in kprint.cc.
#include "proc.hh"
#include "vm.hh"
#include "apic.hh"
#include "console.hh"
#include "kalloc.hh"

long sys_lsread(uint64_t scheme, uint64_t len);
long sys_lswrite(uint64_t scheme, uint64_t buf, uint64_t len);
long sys_kstat(uint64_t what, uint64_t arg);
long sys_kprint(const char* name);

namespace {
using syscall_fn = long (*)(regstate*);
inline uint64_t* upt() { return current()->pagetable; }

long sys_getpid(regstate*) { return current()->pid; }

long sys_getppid(regstate*) {
    rcu_read_guard g;
    proc* parent = current()->parent.load();
    return parent ? parent->pid : 0;
}

long sys_fork(regstate* r) { return proc_fork(r); }

// sys_procinfo(pid, info): another task's pid, parent, state, CPU and name,
// looked up in the pid table under RCU with no lock (proc_info). The
// pointer is checked first; nothing is written unless the call succeeds.
long sys_procinfo(regstate* r) {
    int pid = int(r->reg_rdi);
    uintptr_t info = r->reg_rsi;
    if (!user_range_ok(upt(), info, sizeof(procinfo), true)) return -EFAULT;
    procinfo k;
    if (int e = proc_info(pid, &k)) return e;
    memcpy(reinterpret_cast<void*>(info), &k, sizeof(k));
    return 0;
}

long sys_exit(regstate* r) { proc_exit(int(r->reg_rdi & 0xff)); }

long sys_waitpid(regstate* r) {
    int pid = int(r->reg_rdi);
    uintptr_t status = r->reg_rsi;
    if (pid < 0) return -ECHILD;           // no child has a negative pid
    if (status && !user_range_ok(upt(), status, sizeof(int), true)) return -EFAULT;
    int st = 0;
    int result = proc_waitpid(pid, &st);
    if (result > 0 && status) *reinterpret_cast<int*>(status) = st;
    return result;
}

long sys_yield(regstate*) { yield(); return 0; }

long sys_msleep(regstate* r) { msleep(uint32_t(r->reg_rdi)); return 0; }

long sys_clock_ns(regstate*) { return long(clock_ns()); }

long sys_ncpu(regstate*) { return ncpu; }

long sys_getcpu(regstate*) { return this_cpu_index(); }

// sys_setcpu(cpu): pin the caller to `cpu` (-1 unpins) and move there.
long sys_setcpu(regstate* r) {
    int target = int(r->reg_rdi);
    if (target < -1 || target >= ncpu) return -EINVAL;
    proc* p = current();
    p->pinned = target;
    if (target < 0) return 0;
    p->home_cpu = target;
    while (this_cpu_index() != target) yield();
    return 0;
}

long sys_write(regstate* r) {
    int fd = int(r->reg_rdi);
    uintptr_t buf = r->reg_rsi;
    size_t n = r->reg_rdx;
    if (fd != 1 && fd != 2) return -EINVAL;
    if (!user_range_ok(upt(), buf, n, false)) return -EFAULT;
    console_write(reinterpret_cast<const char*>(buf), n);
    return long(n);
}

long sys_read(regstate* r) {
    int fd = int(r->reg_rdi);
    uintptr_t buf = r->reg_rsi;
    size_t n = r->reg_rdx;
    if (fd != 0) return -EINVAL;
    if (!user_range_ok(upt(), buf, n, true)) return -EFAULT;
    if (n == 0) return 0;
    return long(console_read(reinterpret_cast<char*>(buf), n));
}

// sys_exec(name, argv): copy the name and arguments into the kernel, then
// replace the image.
long sys_exec(regstate* r) {
    size_t len;
    if (!user_string_ok(upt(), r->reg_rdi, 64, &len)) return -EFAULT;
    if (len == 64) return -ENOENT;         // no program has so long a name
    char name[64];
    memcpy(name, reinterpret_cast<const char*>(r->reg_rdi), len + 1);
    constexpr int MAXARGS = 32;
    constexpr size_t ARGSPACE = 2048;
    char* space = static_cast<char*>(kmalloc(ARGSPACE, alloc_for::user));
    if (!space) return -ENOMEM;
    const char* argv[MAXARGS + 1];
    int argc = 0;
    size_t used = 0;
    uintptr_t uargv = r->reg_rsi;
    long result = 0;
    while (uargv) {
        if (!user_range_ok(upt(), uargv + argc * 8, 8, false)) { result = -EFAULT; break; }
        uintptr_t s = reinterpret_cast<const uintptr_t*>(uargv)[argc];
        if (!s) break;
        if (argc == MAXARGS) { result = -EINVAL; break; }   // a 33rd argument
        size_t n;
        if (!user_string_ok(upt(), s, ARGSPACE - used, &n)) { result = -EFAULT; break; }
        if (n == ARGSPACE - used) { result = -EINVAL; break; }   // arguments too long
        memcpy(space + used, reinterpret_cast<const char*>(s), n + 1);
        argv[argc++] = space + used;
        used += n + 1;
    }
    if (argc == 0 && result == 0) argv[argc++] = name;
    if (result == 0) result = proc_exec(current(), name, argc, argv);
    kfree(space);
    return result;
}

// copy_name(user, name): copy the user string at `user` into name: 0;
// -EFAULT for a bad pointer; -EINVAL if it has 64 characters or more.
constexpr size_t NAME_BYTES = 64;
long copy_name(uintptr_t user, char (&name)[NAME_BYTES]) {
    size_t len;
    if (!user_string_ok(upt(), user, NAME_BYTES, &len)) return -EFAULT;
    if (len == NAME_BYTES) return -EINVAL;
    memcpy(name, reinterpret_cast<const char*>(user), len + 1);
    return 0;
}

long sys_ktest(regstate* r) {
    char name[NAME_BYTES];
    if (long e = copy_name(r->reg_rdi, name)) return e;
    return run_ktest(name, long(r->reg_rsi));
}

long sys_kprint_entry(regstate* r) {
    char name[NAME_BYTES];
    if (long e = copy_name(r->reg_rdi, name)) return e;
    return sys_kprint(name);
}

long sys_lsread_entry(regstate* r) { return sys_lsread(r->reg_rdi, r->reg_rsi); }
long sys_lswrite_entry(regstate* r) { return sys_lswrite(r->reg_rdi, r->reg_rsi, r->reg_rdx); }
long sys_kstat_entry(regstate* r) { return sys_kstat(r->reg_rdi, r->reg_rsi); }

constexpr syscall_fn make_table_entry(int n) {
    switch (n) {
    case SYS_GETPID: return sys_getpid;
    case SYS_GETPPID: return sys_getppid;
    case SYS_FORK: return sys_fork;
    case SYS_EXEC: return sys_exec;
    case SYS_EXIT: return sys_exit;
    case SYS_WAITPID: return sys_waitpid;
    case SYS_YIELD: return sys_yield;
    case SYS_MSLEEP: return sys_msleep;
    case SYS_CLOCK_NS: return sys_clock_ns;
    case SYS_NCPU: return sys_ncpu;
    case SYS_GETCPU: return sys_getcpu;
    case SYS_SETCPU: return sys_setcpu;
    case SYS_WRITE: return sys_write;
    case SYS_READ: return sys_read;
    case SYS_LSREAD: return sys_lsread_entry;
    case SYS_LSWRITE: return sys_lswrite_entry;
    case SYS_PROCINFO: return sys_procinfo;
    case SYS_KTEST: return sys_ktest;
    case SYS_KSTAT: return sys_kstat_entry;
    case SYS_KPRINT: return sys_kprint_entry;
    default: return nullptr;
    }
}
struct syscall_table {
    syscall_fn fn[NSYSCALL];
    constexpr syscall_table() : fn() {
        for (int i = 0; i < NSYSCALL; ++i) fn[i] = make_table_entry(i);
    }
};
constexpr syscall_table table;

// table_matches_abi(): every number GRACE_SYSCALLS defines has a function
// here, and no other number has one.
constexpr bool table_matches_abi() {
    for (int i = 0; i < NSYSCALL; ++i) {
        if ((table.fn[i] != nullptr) != syscall_defined(i)) return false;
    }
    return true;
}
static_assert(table_matches_abi(), "kernel/syscall.cc's table and GRACE_SYSCALLS (lib/abi.hh) disagree");
}

extern "C" long syscall_dispatch(regstate* r) {
    uint64_t n = r->reg_rax;
    long result = n < NSYSCALL && table.fn[n] ? table.fn[n](r) : -ENOSYS;
    cli();                               // entry.S returns with interrupts off
    cpu* c = this_cpu();
    if (c->need_resched && c->preempt_count == 0) c->schedule(true);
    return result;
}
