// user/hostile.cc: resource exhaustion from user space, and the kernel
// surviving it with nothing lost.
//
//   hostile                 the whole test (process 1 in `make check`):
//                           forkbomb, memhog, storm, then `hammer rcu 2`,
//                           with the free-page count (after reclaiming
//                           what RCU and the schemes defer) and the
//                           process count checked against the start
//                           after each step. Exit 0 iff all held.
//   hostile forkbomb MS     every process forks until fork fails; all hold
//                           the process table full for MS ms, then exit.
//                           Expects -EAGAIN (the table is full).
//   hostile memhog MS       fills memory: `ballast` processes (4 MiB each)
//                           while they fit, one more whose exec must fail,
//                           then small forks of itself until fork fails;
//                           holds it all for MS ms (0: until its parent
//                           exits). Expects -ENOMEM. Its children outlive
//                           it briefly: process 1 reaps them.
//   hostile storm MS [hog]  4 writers per CPU call sys_lswrite(LS_RCU) flat
//                           out for MS ms (each write allocates a 10 KB
//                           struct and defers the old one's free to
//                           call_rcu), with `hog`: while a memhog holds
//                           memory. Writes may fail with -ENOMEM, nothing
//                           else; the struct must end as one writer's.
//
// Each mode prints one result line and exits with a bit set (RESULT_*)
// saying which errors it saw; a process killed by the kernel, or an
// unexpected error, sets RESULT_BAD.
#include "ulib.hh"

namespace {
constexpr int RESULT_EAGAIN = 1, RESULT_ENOMEM = 2, RESULT_BAD = 4;
constexpr long BALLAST_PAGES = 1024 + 16;     // user/ballast.cc: 4 MiB + tables

uint64_t now_ms() { return sys_clock_ns() / 1000000; }
long min_l(long a, long b) { return a < b ? a : b; }
long max_l(long a, long b) { return a > b ? a : b; }

// error_bit(r): the RESULT_* bit for a failed fork/exec/write.
int error_bit(long r) {
    return r == -EAGAIN ? RESULT_EAGAIN : r == -ENOMEM ? RESULT_ENOMEM : RESULT_BAD;
}

// reap_all(): wait for every child; OR their result bits (a killed child,
// or a status beyond the RESULT_* bits, is RESULT_BAD).
int reap_all() {
    int bits = 0, status;
    while (sys_waitpid(0, &status) > 0) bits |= status < 8 ? status : RESULT_BAD;
    return bits;
}

[[noreturn]] void usage() {
    dprintf(2, "usage: hostile [forkbomb MS | memhog MS | storm MS [hog]]\n");
    sys_exit(2);
}

// The parent this process was started by (main reads it first thing, a
// forked child sets it to the forking process's pid).
int start_parent;

// hold_until_orphaned(status): sleep until `start_parent` has exited, then
// exit with `status`. A parent that exits re-parents us to process 1, so
// "orphaned" is "the parent is no longer start_parent", or the parent is
// process 1 already: the parent may have exited before we even looked (a
// slow host), and process 1 itself never exits, so waiting for it would
// hang. (Reading the parent only when holding begins would find process 1
// after such an early exit, and wait for it forever.)
[[noreturn]] void hold_until_orphaned(int status) {
    while (start_parent != 1 && sys_getppid() == start_parent) sys_msleep(5);
    sys_exit(status);
}

// fork_held(): sys_fork, with the child's start_parent set to this process.
int fork_held() {
    int me = sys_getpid();
    int pid = sys_fork();
    if (pid == 0) start_parent = me;
    return pid;
}

// forkbomb(ms): see the top. Every process forks until fork fails, then
// holds its place in the table until its parent has exited, and exits
// with the RESULT_* bit of its failure: the first process holds for MS ms,
// then the tree unwinds from the top, orphan by orphan, into process 1,
// which reaps them all.
int forkbomb(long ms) {
    int bits = 0;
    bool root = true;
    for (;;) {
        int pid = fork_held();
        if (pid == 0) {
            root = false;             // the child joins the bomb
            continue;
        }
        if (pid < 0) {
            bits |= error_bit(pid);
            break;
        }
    }
    if (!root) hold_until_orphaned(bits);
    long peak = sys_kstat(KSTAT_NPROCS);
    uint64_t until = now_ms() + uint64_t(ms);
    while (now_ms() < until) {
        peak = max_l(peak, sys_kstat(KSTAT_NPROCS));
        sys_msleep(10);
    }
    printf("hostile: forkbomb: peak %ld processes (table size %ld); fork refused with%s%s%s\n", peak,
           sys_kstat(KSTAT_NPROC_MAX), bits & RESULT_EAGAIN ? " -EAGAIN" : "",
           bits & RESULT_ENOMEM ? " -ENOMEM" : "", bits & RESULT_BAD ? " (and something unexpected)" : "");
    return bits;
}

// memhog(ms): see the top. Its children hold their memory until it exits;
// process 1 adopts and reaps them (their statuses: 0, or RESULT_ENOMEM for
// the ballast whose exec found no memory).
int memhog(long ms) {
    long reserve = sys_kstat(KSTAT_RESERVE_PAGES);
    int bits = 0, big = 0, small = 0;
    // Ballast while it fits, each started once the one before has taken
    // its memory. The last one's exec fails (free pages do not drop):
    // memory is full to within a ballast.
    for (;;) {
        long before = sys_kstat(KSTAT_FREE_PAGES);
        int pid = sys_fork();
        if (pid == 0) {
            const char* argv[] = {"ballast", nullptr};
            sys_exit(error_bit(sys_exec("ballast", argv)));
        }
        if (pid < 0) {
            bits |= error_bit(pid);
            break;
        }
        // Its exec either takes the memory or is refused for lack of it.
        long refusals = sys_kstat(KSTAT_USER_REFUSALS);
        uint64_t give_up = now_ms() + 20000;
        bool took = false;
        while (now_ms() < give_up && sys_kstat(KSTAT_USER_REFUSALS) == refusals) {
            if ((took = before - sys_kstat(KSTAT_FREE_PAGES) >= BALLAST_PAGES / 2)) break;
            sys_msleep(1);
        }
        if (!took) break;
        ++big;
    }
    // Then small copies of this process, until fork fails.
    for (;;) {
        int pid = fork_held();
        if (pid == 0) hold_until_orphaned(0);
        if (pid < 0) {
            bits |= error_bit(pid);
            break;
        }
        ++small;
    }
    // The kernel kept its reserve: no allocation for user space took it.
    long free_now = sys_kstat(KSTAT_FREE_PAGES);
    if (free_now < reserve) bits |= RESULT_BAD;
    printf("hostile: memhog: %d ballast (4 MiB) and %d small processes; free pages %ld, reserve %ld; "
           "refused with%s%s%s; holding it %s\n", big, small, free_now, reserve,
           bits & RESULT_EAGAIN ? " -EAGAIN" : "", bits & RESULT_ENOMEM ? " -ENOMEM" : "",
           bits & RESULT_BAD ? " (and something unexpected)" : "", ms ? "for a while" : "until the parent exits");
    if (ms > 0) sys_msleep(unsigned(ms));
    else hold_until_orphaned(bits);   // MS 0: until the parent exits
    return bits;                      // exiting releases every child
}

// pattern(w, buf): writer w's struct: every byte differs between writers.
void pattern(int w, char* buf) {
    for (size_t i = 0; i < LS_SIZE; ++i) buf[i] = char((w + 1) * 37 + i * 7 + (i >> 9));
}

// storm_writer(w, hog, ms): pinned to a CPU, wait (with `hog`) until the
// memhog has filled memory, then write pattern w flat out for ms ms.
[[noreturn]] void storm_writer(int w, bool hog, long ms) {
    static char buf[LS_SIZE];
    sys_setcpu(w % sys_ncpu());
    pattern(w, buf);
    uint64_t give_up = now_ms() + 20000;
    while (hog && now_ms() < give_up && sys_kstat(KSTAT_FREE_PAGES) > 2 * sys_kstat(KSTAT_RESERVE_PAGES)) {
        sys_msleep(10);
    }
    long ok = 0, nomem = 0;
    int bits = 0;
    for (uint64_t until = now_ms() + uint64_t(ms); now_ms() < until;) {
        long r = sys_lswrite(LS_RCU, buf, LS_SIZE);
        if (r == 0) ++ok;
        else if (r == -ENOMEM) ++nomem, bits |= RESULT_ENOMEM;
        else bits |= RESULT_BAD;
    }
    printf("hostile: storm writer %d: %ld writes, %ld refused with -ENOMEM\n", w, ok, nomem);
    sys_exit(bits);
}

// storm(ms, hog): see the top. The writers are forked first (once memory
// is full no fork would succeed), then the memhog.
int storm(long ms, bool hog) {
    int ncpu = sys_ncpu(), nwriters = 0, bits = 0;
    static char buf[LS_SIZE];
    for (int w = 0; w < 4 * ncpu; ++w) {
        int pid = sys_fork();
        if (pid == 0) storm_writer(w, hog, ms);
        if (pid < 0) return RESULT_BAD;
        ++nwriters;
    }
    if (hog) {
        char arg[24];
        snprintf(arg, sizeof(arg), "%ld", ms + 1000);
        const char* argv[] = {"hostile", "memhog", arg, nullptr};
        if (spawn("hostile", argv) < 0) bits |= RESULT_BAD;
    }
    long min_free = sys_kstat(KSTAT_FREE_PAGES);
    for (uint64_t until = now_ms() + uint64_t(ms) + (hog ? 3000 : 0); now_ms() < until;) {
        min_free = min_l(min_free, sys_kstat(KSTAT_FREE_PAGES));
        sys_msleep(5);
    }
    bits |= reap_all();
    // The struct is one writer's whole pattern (or still zeros).
    long sum = sys_lsread(LS_RCU, LS_SIZE);
    memset(buf, 0, LS_SIZE);
    bool whole = uint64_t(sum) == ls_checksum(buf, LS_SIZE);
    for (int w = 0; w < nwriters && !whole; ++w) {
        pattern(w, buf);
        whole = uint64_t(sum) == ls_checksum(buf, LS_SIZE);
    }
    if (!whole) bits |= RESULT_BAD;
    printf("hostile: storm%s: %d writers, RCU callback backlog high water %ld, lowest free pages %ld "
           "(reserve %ld); the struct is %s\n", hog ? " under memhog" : "", nwriters,
           sys_kstat(KSTAT_RCU_CB_HIGH), min_free, sys_kstat(KSTAT_RESERVE_PAGES),
           whole ? "whole" : "NOT any writer's (torn or lost)");
    memset(buf, 0, LS_SIZE);          // zeros again, as at boot, for whoever runs next
    while (sys_lswrite(LS_RCU, buf, LS_SIZE) == -ENOMEM) sys_msleep(10);
    return bits;
}

// settled(): free pages and processes once every deferred free has run.
void settled(long* pages, long* procs) {
    for (int s = 0; s < LS_NSCHEMES; ++s) sys_ktest("scheme-settle", s);
    sys_ktest("rcu-barrier");
    *pages = sys_kstat(KSTAT_FREE_PAGES);
    *procs = sys_kstat(KSTAT_NPROCS);
}

// run(argv): spawn `hostile ...` or another program and return its
// status, with the RESULT_* bits of the orphans it left behind (adopted
// by this process, process 1) ORed in.
int run(const char* const* argv) {
    int pid = spawn(argv[0], argv);
    int status = -1;
    if (pid < 0 || sys_waitpid(pid, &status) != pid) return -1;
    return status | reap_all();
}

// whole_test(): every step, each checked, then the leak check.
int whole_test() {
    struct step {
        const char* argv[5];
        int want;              // status bits it must report (hammer: status 0)
        int allowed;           // status bits it may report
    };
    const step steps[] = {
        {{"hostile", "forkbomb", "1500", nullptr}, RESULT_EAGAIN, RESULT_EAGAIN | RESULT_ENOMEM},
        {{"hostile", "memhog", "1500", nullptr}, RESULT_ENOMEM, RESULT_EAGAIN | RESULT_ENOMEM},
        {{"hostile", "storm", "1000", nullptr}, 0, RESULT_ENOMEM},
        {{"hostile", "storm", "1500", "hog", nullptr}, 0, RESULT_ENOMEM},
        {{"hammer", "rcu", "2", nullptr}, 0, 0},
    };
    long pages0, procs0, pages, procs;
    settled(&pages0, &procs0);
    int failures = 0;
    for (const step& s : steps) {
        int status = run(s.argv);
        settled(&pages, &procs);
        bool ok = status >= 0 && (status & s.want) == s.want && (status & ~s.allowed) == 0;
        bool same = pages == pages0 && procs == procs0;
        printf("hostile: %s %s: status %d: %s; free pages %ld (start %ld), processes %ld (start %ld): %s\n",
               s.argv[0], s.argv[1], status, ok ? "ok" : "FAILED", pages, pages0, procs, procs0,
               same ? "all back" : "LEAKED");
        failures += !ok + !same;
    }
    if (failures) {
        printf("hostile: FAIL (%d)\n", failures);
        return 1;
    }
    printf("hostile: PASS: the kernel survived a fork bomb, a memory hog and call_rcu storms, "
           "and every page came back\n");
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    start_parent = sys_getppid();
    if (argc == 1) return whole_test();
    long ms = argc > 2 ? atol_or(argv[2], -1) : -1;
    if (ms < 0 || ms > 600000) usage();
    if (strcmp(argv[1], "forkbomb") == 0 && argc == 3) return forkbomb(ms);
    if (strcmp(argv[1], "memhog") == 0 && argc == 3) return memhog(ms);
    if (strcmp(argv[1], "storm") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "hog") == 0))) {
        return storm(ms, argc == 4);
    }
    usage();
}
