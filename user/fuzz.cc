// user/fuzz.cc: `fuzz SEED SECONDS [WORKERS-PER-CPU]`: system call fuzzing.
//
// Forks WORKERS-PER-CPU (default 1) workers per CPU. Each issues random
// system calls for SECONDS with argument values drawn from the nasty ones
// (0, -1, huge, kernel and non-canonical addresses, unmapped user
// addresses, ranges straddling a mapped/unmapped or the user/kernel
// boundary, ranges whose end wraps around, misaligned pointers, every
// largestruct scheme and invalid ones, random lengths), sometimes with a
// hostile register state (RFLAGS.NT and DF set, %rsp pointing into the
// kernel or nowhere), and checks every result against docs/abi.md:
//
//   - a call whose arguments are all fine must succeed (and the result must
//     make sense: getpid is the pid, lsread >= 0, msleep slept, ...); only
//     resource errors (-EAGAIN/-ENOMEM from fork, -ENOMEM from lswrite) are
//     allowed besides;
//   - a call with bad arguments must fail with exactly one of the errnos
//     for the kinds of bad argument it got (bad pointer -EFAULT, bad value
//     -EINVAL, no such child -ECHILD, no such program -ENOENT, unknown call
//     -ENOSYS); with several bad arguments any of their errnos will do
//     (the contract does not fix the order of the checks);
//   - a number that names no call is -ENOSYS. The numbers tried are
//     computed from the list of calls (GRACE_SYSCALLS, lib/abi.hh:
//     unused_syscalls and any other number up to NSYSCALL + 64 that no
//     call has), so adding a call never makes it "unknown" here.
//
// The rules where the contract is silent (docs/abi.md, "Grace beyond the
// contract"): a range of length 0 is fine at any address below the top of
// user space (nothing is touched); an `int` argument is the low 32 bits of
// its register; scheme numbers, lengths and call numbers are the full 64
// bits; write() on an fd other than 1 and 2 and read() on an fd other than
// 0 are -EINVAL.
//
// Calls that would end or block a worker are shaped so they cannot:
// sys_exit only in forked children; sys_read(0) only with a bad buffer or
// length 0 (the kernel checks the buffer before it blocks); sys_exec only
// with names that are no program or with bad argv, or in a forked child;
// sys_waitpid on pids that are not children, or on a child just forked;
// sys_msleep for at most 3 ms; sys_write to the console only with bad
// buffers (nothing is printed). sys_ktest only with bad or too-long names.
// sys_kprint with bad pointers, unknown and too-long names, and now and then
// a real table (processes, programs, state: a few lines on the console;
// printing one is safe at any time, even while other workers fork).
// sys_procinfo about the worker itself and its parent (alive: found,
// running on its CPU for itself), pids no process can have (-ESRCH) and any
// others (found whole, or -ESRCH), with good buffers on the stack or bad
// ones (-EFAULT, and the mapped part of a buffer that runs off the stack
// stays unwritten).
//
// Reproducible: worker W's calls are a function of SEED and W alone (its
// random generator is seeded with both), so `fuzz SEED ...` replays them.
// A violation prints
//   fuzz: VIOLATION seed=S worker=W call#N: sys_X(args) = R, expected ...
// and the worker's last calls. The parent then checks that every page came
// back (after reclaiming what the schemes defer) and prints "fuzz: PASS"
// (exit 0), or "fuzz: FAIL ..." (exit 1). Bad usage exits 2.
#include "fuzz.hh"

namespace fuzz {
// ---- the calls ------------------------------------------------------------
void op_simple(worker& w) {
    long r;
    switch (w.r.below(6)) {
    case 0:
        if ((r = w.issue("getpid", SYS_GETPID, nullptr, 0)) != w.pid) w.violation("the caller's pid");
        break;
    case 1:
        if ((r = w.issue("getppid", SYS_GETPPID, nullptr, 0)) != w.ppid) w.violation("the parent's pid");
        break;
    case 2:
        if ((r = w.issue("yield", SYS_YIELD, nullptr, 0)) != 0) w.violation("0");
        break;
    case 3:
        if ((r = w.issue("ncpu", SYS_NCPU, nullptr, 0)) != w.ncpu) w.violation("the CPU count");
        break;
    case 4:
        r = w.issue("getcpu", SYS_GETCPU, nullptr, 0);
        if (r < 0 || r >= w.ncpu || (w.pinned >= 0 && r != w.pinned)) {
            w.violation("a running CPU (the pinned one when pinned)");
        }
        break;
    default: {
        uint64_t now = uint64_t(w.issue("clock_ns", SYS_CLOCK_NS, nullptr, 0));
        if (now < w.last_clock) w.violation("a clock that never goes back");
        w.last_clock = now;
    }
    }
}

void op_msleep(worker& w) {
    uint64_t ms = w.r.below(4);
    uint64_t arg = (w.r.one_in(2) ? w.r.next() << 32 : 0) | ms;   // only the low 32 bits count
    uint64_t t0 = sys_clock_ns();
    long r = w.issue("msleep", SYS_MSLEEP, &arg, 1);
    uint64_t slept = sys_clock_ns() - t0;
    if (r != 0) w.violation("0");
    else if (slept < ms * 1000000) w.violation("a sleep of at least the asked milliseconds");
}

// int_arg(w, good): a register value for an `int` argument: often one of
// `good`, sometimes an edge value; sometimes garbage in the upper half.
uint64_t int_arg(worker& w, long good) {
    static const long edges[] = {-1, -2, 0, 1, 0x7fffffff, -0x7fffffffL - 1, 1000};
    long v = w.r.one_in(2) ? good : w.r.one_in(3) ? long(w.r.next()) : edges[w.r.below(7)];
    uint64_t a = uint64_t(v);
    if (w.r.one_in(4)) a = (w.r.next() << 32) | uint32_t(v);
    return a;
}

void op_setcpu(worker& w) {
    uint64_t arg = int_arg(w, long(w.r.below(w.ncpu + 1)) - 1);
    int cpu = int(arg);
    bool good = cpu >= -1 && cpu < w.ncpu;
    long r = w.issue("setcpu", SYS_SETCPU, &arg, 1);
    if (!w.expect(r, good ? 0 : bit(EINVAL), good) || !good) return;
    if (r != 0) return w.violation("0");
    w.pinned = cpu;
    if (cpu >= 0 && w.issue("getcpu", SYS_GETCPU, nullptr, 0) != cpu) w.violation("the CPU just pinned to");
}

void op_write(worker& w) {
    uint64_t a[3] = {int_arg(w, 1 + long(w.r.below(2))), 0, 0};
    urange u = any_range(w, 3 * PAGE);
    int fd = int(a[0]);
    bool fd_ok = fd == 1 || fd == 2;
    if (fd_ok && u.readable && u.len > 0) return;   // it would print: not fuzzed
    a[1] = u.addr;
    a[2] = u.len;
    uint64_t allowed = (fd_ok ? 0 : bit(EINVAL)) | (u.readable ? 0 : bit(EFAULT));
    long r = w.issue("write", SYS_WRITE, a, 3);
    if (w.expect(r, allowed, allowed == 0) && allowed == 0 && r != 0) w.violation("0 (length 0)");
}

void op_read(worker& w) {
    uint64_t a[3] = {int_arg(w, 0), 0, 0};
    urange u = any_range(w, 3 * PAGE);
    int fd = int(a[0]);
    if (fd == 0 && u.writable && u.len > 0) return;  // it would block for console input
    a[1] = u.addr;
    a[2] = u.len;
    uint64_t allowed = (fd == 0 ? 0 : bit(EINVAL)) | (u.writable ? 0 : bit(EFAULT));
    long r = w.issue("read", SYS_READ, a, 3);
    if (w.expect(r, allowed, allowed == 0) && allowed == 0 && r != 0) w.violation("0 (length 0)");
}

// op_exec: a name that is no program, or a program with a bad argv; the
// call must fail (and so return).
void op_exec(worker& w) {
    // scratch: the argv array at its start (misaligned at times), then the strings.
    auto* arr = reinterpret_cast<uint64_t*>(scratch + w.r.below(8));
    char* s = scratch + 8 * 42;
    char* const end = scratch + SCRATCH;
    uint64_t allowed = 0;
    uint64_t name;
    bool program = false;
    switch (w.r.below(5)) {
    case 0: name = bad_addr(w); allowed |= bit(EFAULT); break;
    case 1: name = unterminated_at_stack_top(w); allowed |= bit(EFAULT); break;
    case 2: {                           // 64..199 characters: too long for any program
        size_t n = 64 + w.r.below(136);
        random_name(w, s, n);
        name = uintptr_t(s);
        s += n + 1;
        allowed |= bit(ENOENT);
        break;
    }
    case 3: {
        size_t n = 1 + w.r.below(40);
        random_name(w, s, n);
        name = uintptr_t(s);
        s += n + 1;
        allowed |= bit(ENOENT);
        break;
    }
    default:
        name = uintptr_t("exitstatus");
        program = true;
        break;
    }
    // argv: NULL, or an array of strings in scratch (maybe too many, too
    // long, with a bad element, or unterminated at the top of the stack).
    uint64_t argv = 0;
    int kind = int(w.r.below(program ? 4 : 6)) + (program ? 2 : 0);
    if (kind == 2) {
        argv = bad_addr(w);
        allowed |= bit(EFAULT);
    } else if (kind == 3) {             // good pointers up to the top of the stack, no NULL
        size_t k = 1 + w.r.below(4);
        auto* slot = reinterpret_cast<uint64_t*>(stack_top - 8 * k);
        for (size_t i = 0; i < k; ++i) slot[i] = uintptr_t("arg");
        argv = uintptr_t(slot);
        allowed |= bit(EFAULT);
    } else if (kind != 0) {             // an array in scratch
        int n = int(w.r.below(w.r.one_in(4) ? 40 : 8));
        int bad_at = kind == 4 ? int(w.r.below(n + 1)) : -1;
        if (bad_at >= 32) bad_at = 0;
        size_t total = 0;
        for (int i = 0; i < n; ++i) {
            size_t len = w.r.below(w.r.one_in(3) ? 900 : 20);
            if (s + len + 1 > end) {
                len = 0;
                if (s >= end) s = end - 1;
            }
            memset(s, 'a' + i % 26, len);
            s[len] = 0;
            arr[i] = uintptr_t(s);
            s += len + 1;
            total += len + 1;
        }
        arr[n] = 0;
        if (bad_at >= 0) {
            // An unterminated string is also too long if it fills the space left.
            if (bad_at < n) total -= strlen(reinterpret_cast<const char*>(arr[bad_at])) + 1;
            arr[bad_at] = w.r.one_in(2) ? bad_addr(w) : unterminated_at_stack_top(w);
            total += arr[bad_at] > stack_top - PAGE ? stack_top - arr[bad_at] + 1 : 1;
            allowed |= bit(EFAULT);
        }
        if (n > 32 || total > 2048) allowed |= bit(EINVAL);
        argv = uintptr_t(arr);
        if (kind == 5 && !program) argv = 0;
    }
    if (program && !(allowed & (bit(EFAULT) | bit(EINVAL)))) return;   // it would run
    uint64_t a[2] = {name, argv};
    w.expect(w.issue("exec", SYS_EXEC, a, 2), allowed, false);
}

// bad_status(w): a status pointer waitpid must refuse: unmapped, kernel,
// read-only, or an int straddling the top of the stack.
uint64_t bad_status(worker& w) {
    switch (w.r.below(3)) {
    case 0: return bad_addr(w);
    case 1: return uintptr_t(ro_area) + w.r.below(sizeof(ro_area) - 4);
    default: return stack_top - 1 - w.r.below(3);
    }
}

// op_waitpid: the worker has no child here, so the answer is -ECHILD, or
// -EFAULT for a bad status pointer.
void op_waitpid(worker& w) {
    static const long pids[] = {0, -1, 1, 2, 100000, -0x7fffffffL - 1};
    long pid = w.r.one_in(3) ? w.pid : w.r.one_in(3) ? w.ppid : pids[w.r.below(6)];
    uint64_t a[2] = {int_arg(w, pid), 0};
    uint64_t allowed = bit(ECHILD);
    switch (w.r.below(3)) {
    case 0: break;                                                     // NULL
    case 1: a[1] = uintptr_t(rw_area) + w.r.below(sizeof(rw_area) - 4); break;
    default: a[1] = bad_status(w); allowed |= bit(EFAULT); break;
    }
    w.expect(w.issue("waitpid", SYS_WAITPID, a, 2), allowed, false);
}

// op_fork: the child exits at once with a value picked before the fork
// (or execs a program that exits 7 quietly); the parent checks that a bad
// status pointer is refused without reaping the child, then reaps it.
void op_fork(worker& w) {
    bool child_execs = w.r.one_in(4);
    uint64_t exit_value = w.r.next();
    bool try_bad_status = w.r.one_in(2), wait_any = w.r.one_in(2);
    uint64_t bad = bad_status(w);
    long pid = w.issue("fork", SYS_FORK, nullptr, 0);
    if (pid == 0) {
        if (sys_getppid() != w.pid) sys_exit(250);
        if (child_execs) {
            const char* argv[] = {"exitstatus", "child-returns", nullptr};
            sys_exec("exitstatus", argv);
            sys_exit(251);
        }
        syscall4(SYS_EXIT, exit_value);
        sys_exit(252);
    }
    if (!w.expect(pid, bit(EAGAIN) | bit(ENOMEM), true) || pid < 0) return;
    int want = child_execs ? QUIET_STATUS : int(exit_value & 0xff);
    uint64_t a[2] = {wait_any ? 0 : uint64_t(pid), bad};
    if (try_bad_status) w.expect(w.issue("waitpid", SYS_WAITPID, a, 2), bit(EFAULT), false);
    char buf[8];
    a[1] = uintptr_t(buf + 1);          // a misaligned status
    long r = w.issue("waitpid", SYS_WAITPID, a, 2);
    int status;
    memcpy(&status, buf + 1, 4);
    if (r != pid) return w.violation("the child's pid (the child must not be lost)");
    if (status != want) {
        char why[64];
        snprintf(why, sizeof(why), "exit status %d, got %d", want, status);
        return w.violation(why);
    }
    a[0] = uint64_t(pid);
    a[1] = 0;
    w.expect(w.issue("waitpid", SYS_WAITPID, a, 2), bit(ECHILD), false);
}

uint64_t scheme_arg(worker& w) {
    static const uint64_t bad[] = {LS_NSCHEMES, 100, ~0ull, 1ull << 32, 0x80000000ull, (1ull << 63) | LS_RCU};
    return w.r.one_in(4) ? bad[w.r.below(6)] : w.r.below(LS_NSCHEMES);
}

uint64_t len_arg(worker& w) {
    static const uint64_t edges[] = {0, 1, 8, LS_SIZE, LS_SIZE + 1, ~0ull, 1ull << 63, 1ull << 32};
    return w.r.one_in(3) ? edges[w.r.below(8)] : w.r.below(LS_SIZE + 1);
}

void op_lsread(worker& w) {
    uint64_t a[2] = {scheme_arg(w), len_arg(w)};
    bool good = a[0] < uint64_t(LS_NSCHEMES) && a[1] <= LS_SIZE;
    w.expect(w.issue("lsread", SYS_LSREAD, a, 2), good ? 0 : bit(EINVAL), good);
}

void op_lswrite(worker& w) {
    uint64_t scheme = scheme_arg(w);
    urange u = any_range(w, LS_SIZE + 16);
    uint64_t a[3] = {scheme, u.addr, u.len};
    uint64_t allowed = (scheme < uint64_t(LS_NSCHEMES) && u.len <= LS_SIZE ? 0 : bit(EINVAL))
                       | (u.readable ? 0 : bit(EFAULT));
    long r = w.issue("lswrite", SYS_LSWRITE, a, 3);
    if (w.expect(r, allowed ? allowed : bit(ENOMEM), allowed == 0) && r > 0) w.violation("0");
}

void op_ktest(worker& w) {
    uint64_t a[2] = {0, w.r.next()};
    uint64_t allowed;
    switch (w.r.below(3)) {
    case 0: a[0] = bad_addr(w); allowed = bit(EFAULT); break;
    case 1: a[0] = unterminated_at_stack_top(w); allowed = bit(EFAULT); break;
    default: {
        size_t n = 64 + w.r.below(100);
        random_name(w, scratch, n);
        a[0] = uintptr_t(scratch);
        allowed = bit(EINVAL);
    }
    }
    w.expect(w.issue("ktest", SYS_KTEST, a, 2), allowed, false);
}

void op_kstat(worker& w) {
    static const uint64_t bad[] = {KSTAT_COUNT, 100, ~0ull, 1ull << 32};
    uint64_t a[2] = {w.r.one_in(4) ? bad[w.r.below(4)] : w.r.below(KSTAT_COUNT),
                     w.r.one_in(3) ? w.r.next() : w.r.below(w.ncpu + 1)};
    bool per_cpu = a[0] == KSTAT_SCHEDULES || a[0] == KSTAT_TICKS || a[0] == KSTAT_IRQS;
    bool good = a[0] < KSTAT_COUNT && (!per_cpu || a[1] < uint64_t(w.ncpu));
    w.expect(w.issue("kstat", SYS_KSTAT, a, 2), good ? 0 : bit(EINVAL), good);
}

// op_kprint: a bad pointer, an unknown or too-long name (-EFAULT,
// -EINVAL), or one time in 64 a real table, which must print and return 0.
void op_kprint(worker& w) {
    static const char* const tables[] = {"processes", "programs", "state"};
    uint64_t a[1];
    uint64_t allowed;
    switch (w.r.below(4)) {
    case 0: a[0] = bad_addr(w); allowed = bit(EFAULT); break;
    case 1: a[0] = unterminated_at_stack_top(w); allowed = bit(EFAULT); break;
    default:
        if (w.r.one_in(32)) {
            a[0] = uintptr_t(tables[w.r.below(3)]);
            allowed = 0;
            break;
        }
        random_name(w, scratch, w.r.one_in(2) ? w.r.below(64) : 64 + w.r.below(100));
        a[0] = uintptr_t(scratch);
        allowed = bit(EINVAL);
    }
    long r = w.issue("kprint", SYS_KPRINT, a, 1);
    if (w.expect(r, allowed, allowed == 0) && allowed == 0 && r != 0) w.violation("0");
}

// op_procinfo: see the top of the file.
void op_procinfo(worker& w) {
    static const long pids[] = {0, -1, 0x7fffffff, 1, 2, 3};
    long pid = w.r.one_in(3) ? w.pid : w.r.one_in(2) ? w.ppid : pids[w.r.below(6)];
    uint64_t a[2] = {int_arg(w, pid), 0};
    int p = int(a[0]);
    bool live = p == w.pid || p == w.ppid;          // alive for the whole call
    bool absent = p <= 0 || p >= 0x40000000;        // never handed out in a fuzz run
    alignas(8) char buf[sizeof(procinfo) + 8];
    char* straddle = nullptr;
    bool good = false;
    switch (w.r.below(5)) {
    case 0: a[1] = bad_addr(w); break;
    case 1: a[1] = uintptr_t(ro_area) + w.r.below(sizeof(ro_area) - sizeof(procinfo)); break;
    case 2:                                         // the top of the stack, onto the unmapped page
        straddle = reinterpret_cast<char*>(stack_top - 1 - w.r.below(sizeof(procinfo) - 1));
        memset(straddle, 'x', stack_top - uintptr_t(straddle));
        a[1] = uintptr_t(straddle);
        break;
    default:
        a[1] = uintptr_t(buf + w.r.below(8));
        good = true;
    }
    // The pointer is checked first (docs/abi.md): a bad one is -EFAULT for any pid.
    uint64_t allowed = !good ? bit(EFAULT) : live ? 0 : bit(ESRCH);
    long r = w.issue("procinfo", SYS_PROCINFO, a, 2);
    if (!w.expect(r, allowed, good && !absent)) return;
    if (straddle) {
        for (char* c = straddle; uintptr_t(c) < stack_top; ++c) {
            if (*c != 'x') return w.violation("-EFAULT and nothing written");
        }
    }
    if (r != 0) return;
    procinfo info;
    memcpy(&info, reinterpret_cast<const void*>(a[1]), sizeof(info));
    if (info.pid != p || info.state < PS_RUNNING || info.state > PS_ZOMBIE
        || info.cpu < -1 || info.cpu >= w.ncpu || strnlen(info.name, sizeof(info.name)) == sizeof(info.name)) {
        return w.violation("the asked pid's information, whole");
    }
    if (p == w.pid && (info.state != PS_RUNNING || (w.pinned >= 0 && info.cpu != w.pinned))) {
        w.violation("the caller itself running, on its pinned CPU");
    }
}

// op_nosys: a number no call has (see the top of the file).
void op_nosys(worker& w) {
    static constexpr unused_syscalls unused;
    uint64_t nr;
    if (w.r.one_in(2)) {
        nr = unused.nr[w.r.below(unused.n)];
    } else {
        do nr = w.r.below(NSYSCALL + 64); while (syscall_defined(nr));
    }
    w.expect(w.issue("(unknown)", nr, nullptr, 0), bit(ENOSYS), false);
}

struct op {
    const char* name;
    void (*fn)(worker&);
    int weight;                          // 0: not chosen (fork: see FORK_EVERY)
};
op ops[] = {
    {"simple", op_simple, 10}, {"msleep", op_msleep, 1}, {"setcpu", op_setcpu, 3},
    {"write", op_write, 8},    {"read", op_read, 6},     {"exec", op_exec, 5},
    {"waitpid", op_waitpid, 5}, {"lsread", op_lsread, 8}, {"lswrite", op_lswrite, 8},
    {"ktest", op_ktest, 2},    {"kstat", op_kstat, 4},   {"kprint", op_kprint, 2},
    {"procinfo", op_procinfo, 4}, {"nosys", op_nosys, 4}, {"fork", op_fork, 0},
};
constexpr int NOPS = sizeof(ops) / sizeof(ops[0]);
constexpr int FORK = NOPS - 1;
constexpr long FORK_EVERY = 400;       // one fork per this many calls, on average
bool fork_enabled = true;

// select_ops(list): keep only the calls named in the comma-separated
// list (to narrow down a failure). False if a name is unknown.
bool select_ops(const char* list) {
    bool keep[NOPS] = {};
    for (const char* p = list; *p;) {
        const char* e = strchr(p, ',');
        size_t n = e ? size_t(e - p) : strlen(p);
        int k = 0;
        while (k < NOPS && !(strncmp(ops[k].name, p, n) == 0 && ops[k].name[n] == 0)) ++k;
        if (k == NOPS) return false;
        keep[k] = true;
        p += n + (e ? 1 : 0);
    }
    for (int k = 0; k < NOPS; ++k) {
        if (!keep[k]) ops[k].weight = 0;
    }
    fork_enabled = keep[FORK];
    if (fork_enabled && ops[0].weight == 0) ops[0].weight = 1;   // something between forks
    return true;
}

// run_worker(w, deadline): fuzz until the deadline; exit 0 or 1.
[[noreturn]] void run_worker(worker& w, uint64_t deadline) {
    int total = 0;
    for (const op& o : ops) total += o.weight;
    long count[NOPS] = {};
    while (sys_clock_ns() < deadline) {
        for (int i = 0; i < 64; ++i) {
            int k;
            if (fork_enabled && w.r.one_in(FORK_EVERY)) {
                k = FORK;
            } else {
                int pick = int(w.r.below(total));
                for (k = 0; pick >= ops[k].weight; ++k) pick -= ops[k].weight;
            }
            ops[k].fn(w);
            ++count[k];
        }
    }
    char line[400];
    int n = snprintf(line, sizeof(line), "fuzz: worker %d (pid %d): %ld calls, %ld violations;", w.index, w.pid,
                     w.calls, w.violations);
    for (int k = 0; k < NOPS; ++k) n += snprintf(line + n, sizeof(line) - n, " %s %ld", ops[k].name, count[k]);
    printf("%s\n", line);
    sys_exit(w.violations ? 1 : 0);
}

// free_pages(): free pages once everything deferred has been reclaimed.
long free_pages() {
    for (int s = 0; s < LS_NSCHEMES; ++s) sys_ktest("scheme-settle", s);
    sys_ktest("rcu-barrier");
    return sys_kstat(KSTAT_FREE_PAGES);
}
}  // namespace fuzz

using namespace fuzz;

int main(int argc, char** argv) {
    long seed = argc > 1 ? atol_or(argv[1], -1) : -1;
    long seconds = argc > 2 ? atol_or(argv[2], -1) : -1;
    long per_cpu = argc > 3 ? atol_or(argv[3], -1) : 1;
    if (argc < 3 || argc > 5 || seed < 0 || seconds < 1 || seconds > 3600 || per_cpu < 1 || per_cpu > 8
        || (argc > 4 && !select_ops(argv[4]))) {
        dprintf(2, "usage: fuzz SEED SECONDS [WORKERS-PER-CPU [CALL,CALL...]]\n");
        return 2;
    }
    progname = "fuzz";                  // argv's strings get overwritten below
    if (!find_layout(argv[0])) {
        printf("fuzz: VIOLATION: sys_waitpid(no child, unmapped status) is not -EFAULT; "
               "cannot probe the address space\n");
        return 1;
    }
    int ncpu = sys_ncpu(), nworkers = int(per_cpu) * ncpu;
    printf("fuzz: seed %ld, %d workers on %d CPUs, %ld s; stack %#lx-%#lx, image end %#lx\n", seed, nworkers,
           ncpu, seconds, stack_low, stack_top, image_end);
    long before = free_pages();
    uint64_t deadline = sys_clock_ns() + uint64_t(seconds) * 1000000000ull;
    int me = sys_getpid();
    for (int i = 0; i < nworkers; ++i) {
        int pid = sys_fork();
        if (pid < 0) die("fork of worker %d failed: %d", i, pid);
        if (pid == 0) {
            static worker w;
            w.seed = uint64_t(seed);
            w.index = i;
            w.pid = sys_getpid();
            w.ppid = me;
            w.ncpu = ncpu;
            rng mix{uint64_t(seed) * 0x100000001b3ull ^ (uint64_t(i) << 48)};
            w.r.s = mix.next();         // unrelated streams for neighbouring workers
            if (sys_setcpu(i % ncpu) == 0) w.pinned = i % ncpu;
            run_worker(w, deadline);
        }
    }
    int failed = 0;
    for (int i = 0; i < nworkers; ++i) {
        int status = -1;
        int pid = sys_waitpid(0, &status);
        if (pid < 0) die("waitpid failed: %d", pid);
        if (status >= 256) printf("fuzz: FAIL: worker pid %d was killed (vector %d)\n", pid, status - 256);
        else if (status > 1) printf("fuzz: FAIL: worker pid %d exited with status %d\n", pid, status);
        failed += status != 0;
    }
    long after = free_pages();
    printf("fuzz: free pages before %ld after %ld\n", before, after);
    if (failed || after != before) {
        printf("fuzz: FAIL: seed %ld: %d of %d workers failed%s\n", seed, failed, nworkers,
               after != before ? ", pages leaked" : "");
        return 1;
    }
    printf("fuzz: PASS: seed %ld, %d workers, no violation, no page leaked\n", seed, nworkers);
    return 0;
}
