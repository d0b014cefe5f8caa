// kernel/kprint.cc: sys_kprint(table): the kernel prints one of its tables
// on the console, for the shell and for tests (a Grace extension):
//   programs   the programs in the boot image, on one line (the shell's `ls`)
//   processes  the process table as the kernel sees it (kernel threads marked)
//   state      the kernel's own view of what GDB's grace-cpus, grace-rcu and
//              grace-ps show (tools/gdb/grace.py), in lines a test can parse
//              (tests/tests_gdb.py): "state: ncpu N", one "state: cpuI ..."
//              line per CPU, the "rcu: ..." line of rcu_print_state() and
//              the process table
//   tests      the registered self-tests with their descriptions (`ktest --list`)
//   trace      the trace buffers' events not printed yet (kernel/trace.hh; the
//              shell's `trace`); recording goes on afterwards
// Any other name is -EINVAL. Every table is safe to print at any time, from
// any process: each takes the locks or the read section its data needs.
#include "proc.hh"
#include "initfs.hh"
#include "ktest/ktest.hh"
#include "trace.hh"

namespace {
// print_programs(): the names of the boot image's programs on one line
// (there is no file system call).
void print_programs() {
    char line[1024];
    size_t n = 0;
    for (int i = 0; i < initfs_nfiles; ++i) {
        n += snprintf(line + n, sizeof(line) - n, "%s%s", i ? "  " : "", initfs_files[i].name);
        if (n >= sizeof(line) - 1) n = sizeof(line) - 2;
    }
    line[n++] = '\n';
    console_write(line, n);
}

// print_state(): the "state" table (above).
void print_state() {
    console_printf("state: ncpu %d\n", ncpu);
    for (int i = 0; i < ncpu; ++i) {
        cpu& c = cpus[i];
        // The count first: our own read section below would raise it.
        uint32_t count = __atomic_load_n(&c.preempt_count, __ATOMIC_RELAXED);
        rcu_read_guard g;                  // a task is freed with rcu_free
        proc* p = __atomic_load_n(&c.current, __ATOMIC_ACQUIRE);
        console_printf("state: cpu%d pid %d (%s) preempt %#x depth %u schedules %lu "
                       "last_qs_gp %lu idle %d\n", i, p->pid, p->name, count,
                       count % PREEMPT_IRQ, __atomic_load_n(&c.schedule_count, __ATOMIC_RELAXED),
                       c.rcu.last_qs_gp, !(c.rcu.dynticks.load() & 1));
    }
    rcu_print_state();
    proc_dump();
}

struct table {
    const char* name;
    void (*print)();
};
constexpr table tables[] = {
    {"programs", print_programs},
    {"processes", proc_dump},
    {"state", print_state},
    {"tests", ktest_print_list},
    {"trace", [] { trace_dump("request", false); }},
};
}

// sys_kprint(name): print table `name` (already copied into the kernel by
// syscall.cc); 0, or -EINVAL when no table has that name.
long sys_kprint(const char* name) {
    for (const table& t : tables) {
        if (strcmp(t.name, name) == 0) {
            t.print();
            return 0;
        }
    }
    return -EINVAL;
}
