// kernel/ktest/ktest.cc: the self-test registry's lookup: run_ktest (what
// sys_ktest calls), `busted:NAME`, and the list `ktest --list` prints.
// The tests themselves register with KTEST (ktest.hh) in their own files:
//   ktest_boot.cc     boot, interrupts, memory, the scheduler, panics
//   ktest_faults.cc   kernel faults on purpose (register dump, triple fault)
//   ktest_locks.cc    the spinlock and the reader-writer lock
//   ktest_lockdep.cc  the lock checker and might_sleep, each check provoked
//   ktest_rcu.cc      RCU; rcutorture.cc: rcutorture
//   ktest_rculist.cc  RCU lists and the hash table; rculist_torture.cc: their torture test
//   ktest_pidtable.cc the pid table and proc_info (sys_procinfo)
//   ktest_schemes.cc  what distinguishes the other reclamation schemes
//   ktest_bench.cc    measurements for `make bench`
//   ktest_trace.cc    scenes worth tracing, and the trace buffers' accounting
#include "ktest/ktest.hh"
#include "rcu.hh"
#include "kalloc.hh"
#include "sched.hh"

extern "C" const ktest* const __ktests_start[];
extern "C" const ktest* const __ktests_end[];

namespace {
// find_ktest(name): the entry registered as `name`, or nullptr. Two
// entries with one name are a build mistake: panic naming it.
const ktest* find_ktest(const char* name) {
    const ktest* found = nullptr;
    for (auto t = __ktests_start; t != __ktests_end; ++t) {
        if (strcmp((*t)->name, name) != 0) continue;
        if (found) panic("two self-tests are registered as '%s'", name);
        found = *t;
    }
    return found;
}

constexpr char BUSTED[] = "busted:";
constexpr size_t BUSTED_LEN = sizeof(BUSTED) - 1;
}

long run_ktest(const char* name, long arg) {
    bool busted = strncmp(name, BUSTED, BUSTED_LEN) == 0;
    const char* test_name = busted ? name + BUSTED_LEN : name;
    const ktest* t = find_ktest(test_name);
    if (!t) {
        log_printf("ktest: no test named '%s'", name);
        return -ENOENT;
    }
    if (t->default_arg != 0 && arg <= 0) arg = t->default_arg;
    if (!busted) return t->fn(arg);
    // The same test against RCU with its grace period skipped.
    rcu_busted = true;
    long r = t->fn(arg);
    rcu_busted = false;
    log_printf("ktest %s: with grace periods skipped the test %s", test_name,
               r < 0 ? "failed, as it must" : "PASSED: it cannot catch a broken RCU");
    return r;
}

void ktest_print_list() {
    // Selection by name, one pass per line: no array to size.
    const char* last = "";
    for (;;) {
        const ktest* next = nullptr;
        for (auto t = __ktests_start; t != __ktests_end; ++t) {
            if (strcmp((*t)->name, last) > 0 && (!next || strcmp((*t)->name, next->name) < 0)) next = *t;
        }
        if (!next) return;
        char arg[24] = "";
        if (next->default_arg) snprintf(arg, sizeof(arg), "[%ld]", next->default_arg);
        console_printf("  %-20s %-8s %s\n", next->name, arg, next->description);
        last = next->name;
    }
}

size_t free_pages_settled(size_t expected) {
    size_t now = pmem_free_pages();
    for (int i = 0; i < 50 && now != expected; ++i) {
        rcu_barrier();
        msleep(10);
        now = pmem_free_pages();
    }
    return now;
}
