// user/badptr.cc: every system call that takes a pointer refuses bad
// ones with -EFAULT, numbers that name no call are -ENOSYS (computed from
// the list of calls, lib/abi.hh: a new call is never tried as "unknown"),
// and the kernel runs on.
//
// The bad pointers: NULL, a kernel address, an unmapped user address, a
// range that runs off the end of user space, and ranges (or strings, or
// argv arrays) that start on the last mapped page of the stack and run
// onto the unmapped page above it. Calls that write to user memory also
// get a read-only address (the program's text). Where NULL is allowed
// (sys_exec's argv, sys_waitpid's status) the test checks that it works.
// One line per check; exit 0 iff every check passed.
#include "ulib.hh"

// A function in the program's text: its address is mapped read-only.
[[gnu::noinline, gnu::used]] void text_marker() { asm volatile(""); }

namespace {
constexpr uintptr_t KERNEL_ADDR = 0xffffffff80100000UL;
constexpr uintptr_t UNMAPPED = 0x10000000UL;
constexpr uintptr_t NEAR_TOP = 0x7ffffffff000UL;   // the last page of user space, unmapped
constexpr size_t OFF_END_LEN = 0x2000;             // from NEAR_TOP, past USER_TOP

int failures = 0, checks = 0;
uintptr_t stack_top;       // the first unmapped address above the stack
uintptr_t read_only;       // mapped, not writable

void expect(const char* what, long got, long want) {
    ++checks;
    bool ok = got == want;
    printf("badptr: %-58s -> %ld %s\n", what, got, ok ? "ok" : "FAILED");
    if (!ok) {
        printf("badptr: ... expected %ld\n", want);
        ++failures;
    }
}

void check_write() {
    expect("write(1, NULL, 16)", sys_write(1, nullptr, 16), -EFAULT);
    expect("write(1, kernel address, 16)", sys_write(1, (void*) KERNEL_ADDR, 16), -EFAULT);
    expect("write(1, unmapped, 16)", sys_write(1, (void*) UNMAPPED, 16), -EFAULT);
    expect("write(1, 0x7ffffffff000, 0x2000) off the end", sys_write(1, (void*) NEAR_TOP, OFF_END_LEN), -EFAULT);
    expect("write(1, last stack page, 0x2000) onto unmapped",
           sys_write(1, (void*) (stack_top - 0x1000), 0x2000), -EFAULT);
    expect("write(1, stack, ~0) huge length", sys_write(1, (void*) (stack_top - 0x1000), ~size_t(0)), -EFAULT);
}

void check_read() {
    expect("read(0, NULL, 16)", sys_read(0, nullptr, 16), -EFAULT);
    expect("read(0, kernel address, 16)", sys_read(0, (void*) KERNEL_ADDR, 16), -EFAULT);
    expect("read(0, unmapped, 16)", sys_read(0, (void*) UNMAPPED, 16), -EFAULT);
    expect("read(0, 0x7ffffffff000, 0x2000) off the end", sys_read(0, (void*) NEAR_TOP, OFF_END_LEN), -EFAULT);
    expect("read(0, last stack page, 0x2000) onto unmapped",
           sys_read(0, (void*) (stack_top - 0x1000), 0x2000), -EFAULT);
    expect("read(0, program text, 16) read-only", sys_read(0, (void*) read_only, 16), -EFAULT);
}

void check_exec() {
    static const char* const ok_argv[] = {"hello", nullptr};
    expect("exec(NULL, argv)", sys_exec(nullptr, ok_argv), -EFAULT);
    expect("exec(kernel address, argv)", sys_exec((const char*) KERNEL_ADDR, ok_argv), -EFAULT);
    expect("exec(unmapped, argv)", sys_exec((const char*) UNMAPPED, ok_argv), -EFAULT);
    expect("exec(0x7ffffffff000, argv)", sys_exec((const char*) NEAR_TOP, ok_argv), -EFAULT);
    // "xxxxxxx" without a NUL at the very top of the stack.
    char* tail = (char*) (stack_top - 8);
    memset(tail, 'x', 8);
    expect("exec(name running onto unmapped, argv)", sys_exec(tail, ok_argv), -EFAULT);

    // The argv array itself. NULL is allowed: argv = {name}.
    const char* missing = "no-such-program";
    expect("exec(missing, NULL argv) is allowed: ENOENT", sys_exec(missing, nullptr), -ENOENT);
    expect("exec(missing, argv = kernel address)", sys_exec(missing, (const char* const*) KERNEL_ADDR), -EFAULT);
    expect("exec(missing, argv = unmapped)", sys_exec(missing, (const char* const*) UNMAPPED), -EFAULT);
    expect("exec(missing, argv = 0x7ffffffff000)", sys_exec(missing, (const char* const*) NEAR_TOP), -EFAULT);
    // One good element in the last 8 bytes of the stack, no terminator.
    auto* last_slot = (const char**) (stack_top - 8);
    *last_slot = missing;
    expect("exec(missing, argv array running onto unmapped)", sys_exec(missing, last_slot), -EFAULT);

    // An element of argv.
    const char* argv[] = {missing, nullptr, nullptr};
    argv[1] = (const char*) KERNEL_ADDR;
    expect("exec(missing, argv[1] = kernel address)", sys_exec(missing, argv), -EFAULT);
    argv[1] = (const char*) UNMAPPED;
    expect("exec(missing, argv[1] = unmapped)", sys_exec(missing, argv), -EFAULT);
    argv[1] = (const char*) NEAR_TOP;
    expect("exec(missing, argv[1] = 0x7ffffffff000)", sys_exec(missing, argv), -EFAULT);
    memset(tail, 'x', 8);
    argv[1] = tail;
    expect("exec(missing, argv[1] running onto unmapped)", sys_exec(missing, argv), -EFAULT);
    argv[1] = nullptr;
    expect("exec(missing, good argv) is ENOENT", sys_exec(missing, argv), -ENOENT);
    static char long_name[200];
    memset(long_name, 'x', sizeof(long_name) - 1);
    expect("exec(a 199-character name) is ENOENT, not EFAULT", sys_exec(long_name, argv), -ENOENT);
    expect("waitpid(-1) (no such child) is ECHILD", sys_waitpid(-1, nullptr), -ECHILD);
}

void check_waitpid() {
    int child = sys_fork();
    if (child < 0) die("fork failed: %d", child);
    if (child == 0) sys_exit(3);
    // The bad status pointers must fail before the child is reaped.
    expect("waitpid(child, kernel address)", sys_waitpid(child, (int*) KERNEL_ADDR), -EFAULT);
    expect("waitpid(child, unmapped)", sys_waitpid(child, (int*) UNMAPPED), -EFAULT);
    expect("waitpid(child, 0x7ffffffff000)", sys_waitpid(child, (int*) NEAR_TOP), -EFAULT);
    expect("waitpid(child, 2 bytes below the stack top)", sys_waitpid(child, (int*) (stack_top - 2)), -EFAULT);
    expect("waitpid(child, program text) read-only", sys_waitpid(child, (int*) read_only), -EFAULT);
    expect("waitpid(0, kernel address) with a child", sys_waitpid(0, (int*) KERNEL_ADDR), -EFAULT);
    expect("waitpid(child, NULL) is allowed: reaps it", sys_waitpid(child, nullptr), child);
    expect("waitpid(0, kernel address) with no child", sys_waitpid(0, (int*) KERNEL_ADDR), -EFAULT);
}

void check_lswrite() {
    expect("lswrite(rcu, NULL, 16)", sys_lswrite(LS_RCU, nullptr, 16), -EFAULT);
    expect("lswrite(rcu, kernel address, 16)", sys_lswrite(LS_RCU, (void*) KERNEL_ADDR, 16), -EFAULT);
    expect("lswrite(rcu, unmapped, 16)", sys_lswrite(LS_RCU, (void*) UNMAPPED, 16), -EFAULT);
    expect("lswrite(rcu, 0x7ffffffff000, 0x2000) off the end",
           sys_lswrite(LS_RCU, (void*) NEAR_TOP, OFF_END_LEN), -EFAULT);
    expect("lswrite(rcu, last stack page, 0x2000) onto unmapped",
           sys_lswrite(LS_RCU, (void*) (stack_top - 0x1000), 0x2000), -EFAULT);
}

void check_ktest() {
    expect("ktest(NULL)", sys_ktest(nullptr), -EFAULT);
    expect("ktest(kernel address)", sys_ktest((const char*) KERNEL_ADDR), -EFAULT);
    expect("ktest(unmapped)", sys_ktest((const char*) UNMAPPED), -EFAULT);
    expect("ktest(0x7ffffffff000)", sys_ktest((const char*) NEAR_TOP), -EFAULT);
    char* tail = (char*) (stack_top - 8);
    memset(tail, 'x', 8);
    expect("ktest(name running onto unmapped)", sys_ktest(tail), -EFAULT);
}

void check_kprint() {
    expect("kprint(NULL)", sys_kprint(nullptr), -EFAULT);
    expect("kprint(kernel address)", sys_kprint((const char*) KERNEL_ADDR), -EFAULT);
    expect("kprint(unmapped)", sys_kprint((const char*) UNMAPPED), -EFAULT);
    expect("kprint(0x7ffffffff000)", sys_kprint((const char*) NEAR_TOP), -EFAULT);
    char* tail = (char*) (stack_top - 8);
    memset(tail, 'x', 8);
    expect("kprint(name running onto unmapped)", sys_kprint(tail), -EFAULT);
    expect("kprint(\"\") is EINVAL", sys_kprint(""), -EINVAL);
    expect("kprint(\"no-such-table\") is EINVAL", sys_kprint("no-such-table"), -EINVAL);
    static char long_name[200];
    memset(long_name, 'x', sizeof(long_name) - 1);
    expect("kprint(a 199-character name) is EINVAL", sys_kprint(long_name), -EINVAL);
}

// check_procinfo(): a bad info pointer is -EFAULT and nothing is written,
// not even the part of a straddling struct that is mapped.
void check_procinfo() {
    int me = sys_getpid();
    expect("procinfo(me, NULL)", sys_procinfo(me, nullptr), -EFAULT);
    expect("procinfo(me, kernel address)", sys_procinfo(me, (procinfo*) KERNEL_ADDR), -EFAULT);
    expect("procinfo(me, unmapped)", sys_procinfo(me, (procinfo*) UNMAPPED), -EFAULT);
    expect("procinfo(me, 0x7ffffffff000)", sys_procinfo(me, (procinfo*) NEAR_TOP), -EFAULT);
    expect("procinfo(me, program text) read-only", sys_procinfo(me, (procinfo*) read_only), -EFAULT);
    char* tail = (char*) (stack_top - 16);   // 16 mapped bytes, then the unmapped page
    memset(tail, 'x', 16);
    expect("procinfo(me, last 16 bytes of the stack) onto unmapped",
           sys_procinfo(me, (procinfo*) tail), -EFAULT);
    int untouched = 0;
    for (int i = 0; i < 16; ++i) untouched += tail[i] == 'x';
    expect("... and the 16 mapped bytes are not written", untouched, 16);
    expect("procinfo(no such pid, NULL) is EFAULT (the pointer first)", sys_procinfo(-5, nullptr), -EFAULT);
    procinfo info;
    expect("procinfo(me, good pointer) is 0", sys_procinfo(me, &info), 0);
    expect("procinfo(-5, good pointer) is ESRCH", sys_procinfo(-5, &info), -ESRCH);
}

void check_numbers() {
    constexpr unused_syscalls unused;
    static_assert(unused.n > 0 && unused.n < unused_syscalls::MAX);
    char what[64];
    for (int i = 0; i < unused.n; ++i) {
        uint64_t nr = unused.nr[i];
        snprintf(what, sizeof(what), nr >> 32 ? "syscall %#lx (no such call)" : "syscall %lu (no such call)", nr);
        expect(what, syscall4(long(unused.nr[i])), -ENOSYS);
    }
    int n = sys_ncpu();
    snprintf(what, sizeof(what), "setcpu(%d) (= ncpu)", n);
    expect(what, sys_setcpu(n), -EINVAL);
    expect("setcpu(-2)", sys_setcpu(-2), -EINVAL);
    expect("setcpu(-1) unpins", sys_setcpu(-1), 0);
}
}

int main(int argc, char** argv) {
    if (argc > 1) {
        dprintf(2, "usage: badptr\n");
        return 2;
    }
    // argv[0] is the first string exec copied, so it sits in the stack's
    // top page; the page above it is unmapped. The tests overwrite the
    // top bytes of that page, so stop using argv now.
    progname = "badptr";
    stack_top = (uintptr_t(argv[0]) | 0xfff) + 1;
    read_only = uintptr_t(&text_marker) & ~uintptr_t(0xf);
    check_write();
    check_read();
    check_exec();
    check_waitpid();
    check_lswrite();
    check_ktest();
    check_kprint();
    check_procinfo();
    check_numbers();
    expect("getpid still works", sys_getpid() > 0, 1);
    if (failures) {
        printf("badptr: FAILED: %d of %d checks\n", failures, checks);
        return 1;
    }
    printf("badptr: PASS: all %d checks\n", checks);
    return 0;
}
