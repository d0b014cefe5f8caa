// kernel/ktest/ktest_pidtable.cc: self-tests of the pid table (proc.cc) and
// of proc_info, what sys_procinfo reports.
//
//   procinfo-kthread  a kernel thread with a long name, step by step: found
//                     before it runs (runnable, cpu -1, name cut to 31), while
//                     it runs (running, on its CPU), as a zombie, and not after
//                     it is reaped
//   pidtable-readers  kernel threads on every CPU look up the newest pids and
//                     linger on the task they find, inside the read section,
//                     while programs fork and exit (user/pidhammer.cc runs it
//                     beside its fork storm): a task found must stay whole
//                     until the section ends. `ktest busted:pidtable-readers`
//                     frees reaped tasks at once: the readers must see it.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"

namespace {
constexpr char LONG_NAME[] = "kthread-with-a-name-of-forty-characters!";
static_assert(sizeof(LONG_NAME) - 1 == 40);

struct self_report {
    std::atomic<bool> done{false};
    procinfo info;
    int result = 0;
    int cpu = -1;
};

void report_self(void* arg) {
    auto* r = static_cast<self_report*>(arg);
    {
        preempt_guard g;                // stay on this CPU while comparing
        r->cpu = this_cpu()->index;
        r->result = proc_info(current()->pid, &r->info);
    }
    r->done.store(true);
    proc_exit(0);
}

long test_procinfo_kthread(long) {
    int fails = 0;
    auto check = [&](bool ok, const char* what, const procinfo& i, int r) {
        if (ok) return;
        ++fails;
        log_printf("ktest procinfo-kthread: %s: FAILED (result %d: pid %d ppid %d state %d cpu %d "
                   "name \"%s\")", what, r, i.pid, i.ppid, i.state, i.cpu, i.name);
    };
    self_report rep;
    proc* p = kthread_create(LONG_NAME, report_self, &rep);
    assert(p);
    int pid = p->pid;
    procinfo i{};
    int r = proc_info(pid, &i);
    check(r == 0 && i.pid == pid && i.ppid == 0 && i.state == PS_RUNNABLE && i.cpu == -1,
          "a kernel thread that never ran: pid, ppid 0, runnable, cpu -1", i, r);
    check(r == 0 && strlen(i.name) == 31 && strncmp(i.name, LONG_NAME, 31) == 0,
          "a 40-character name comes back as its first 31 characters", i, r);
    int cpu = ncpu - 1;
    p->pinned = p->home_cpu = cpu;
    enqueue_new(p);
    while (!rep.done.load()) msleep(1);
    check(rep.result == 0 && rep.info.pid == pid && rep.info.state == PS_RUNNING
          && rep.info.cpu == rep.cpu && rep.cpu == cpu,
          "the running thread about itself: running, on its CPU", rep.info, rep.result);
    do {
        msleep(1);
        r = proc_info(pid, &i);
    } while (r == 0 && i.state != PS_ZOMBIE);
    check(r == 0 && i.state == PS_ZOMBIE && i.cpu == cpu, "after proc_exit: a zombie, last on its CPU",
          i, r);
    kthread_join(p);
    r = proc_info(pid, &i);
    check(r == -ESRCH, "after it is reaped: -ESRCH", i, r);
    r = proc_info(0, &i);
    check(r == -ESRCH, "pid 0 (the idle tasks are in no table): -ESRCH", i, r);
    r = proc_info(proc_last_pid() + 1, &i);
    check(r == -ESRCH, "a pid not handed out yet: -ESRCH", i, r);
    log_printf("ktest procinfo-kthread: %s", fails ? "FAILED" : "ok");
    return fails ? -1 : 0;
}
KTEST("procinfo-kthread", test_procinfo_kthread, 0,
      "proc_info of a kernel thread: before it runs, running, zombie, reaped; a name cut to 31");

// ---- pid-table readers beside a fork storm ----
struct readers_ctl {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> lookups{0}, found{0}, bad{0};
};

// intact(p, pid): p is still task `pid`: its pid and state are not the
// heap's poison (0x6b6b6b6b, out of range).
bool intact(const proc* p, int pid) {
    int state = p->state.load(std::memory_order_relaxed);
    return p->pid == pid && state >= TASK_RUNNABLE && state <= TASK_SLEEPING;
}

// pid_reader_fn: look up one of the 16 newest pids; linger on what is found
// inside the read section, then check it is still that task.
void pid_reader_fn(void* arg) {
    auto* c = static_cast<readers_ctl*>(arg);
    uint64_t x = clock_ns() * (current()->pinned + 5) | 1;
    for (uint64_t i = 0; !c->stop.load(std::memory_order_relaxed); ++i) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int pid = proc_last_pid() - int(x % 16);
        if (pid < 1) continue;
        {
            rcu_read_guard g;
            if (proc* p = pid_lookup(pid)) {
                bool whole = intact(p, pid);
                delay_ns(x % 20000);
                whole = whole && intact(p, pid);
                c->found.fetch_add(1, std::memory_order_relaxed);
                if (!whole) c->bad.fetch_add(1);
            }
        }
        c->lookups.fetch_add(1, std::memory_order_relaxed);
        if (i % 64 == 63) yield();
    }
    proc_exit(0);
}

// pidtable_readers(npids): readers on every CPU until `npids` more pids
// have been handed out (by whoever forks meanwhile), counted, not timed. A
// fork storm that stops for a minute is STALLED.
long pidtable_readers(long npids) {
    readers_ctl c;
    int start = proc_last_pid(), last = start;     // before the readers take their pids
    proc* readers[MAXCPU];
    for (int i = 0; i < ncpu; ++i) readers[i] = kthread_spawn_on(i, "pid-reader", pid_reader_fn, &c);
    uint64_t stalled_at = clock_ns() + 60000000000UL;
    bool stalled = false;
    while (proc_last_pid() < start + npids) {
        if (proc_last_pid() != last) {
            last = proc_last_pid();
            stalled_at = clock_ns() + 60000000000UL;
        } else if (clock_ns() > stalled_at) {
            stalled = true;
            break;
        }
        msleep(2);
    }
    c.stop.store(true);
    for (int i = 0; i < ncpu; ++i) kthread_join(readers[i]);
    bool ok = c.bad.load() == 0 && c.found.load() > 0 && !stalled;
    log_printf("ktest pidtable-readers: %lu lookups of the newest pids while %d were handed out%s, "
               "%lu found, %lu saw a freed or changed task: %s", c.lookups.load(),
               proc_last_pid() - start, stalled ? " (STALLED: no fork for a minute)" : "",
               c.found.load(), c.bad.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("pidtable-readers", pidtable_readers, 200,
      "readers on every CPU look up the newest pids and linger until ARG more pids are handed out");
}
