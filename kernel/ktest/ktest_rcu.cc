// kernel/ktest/ktest_rcu.cc: RCU's self-tests, run with `ktest NAME [ARG]`.
//
// Each test checks a safety property (no reader ever sees a freed object,
// no callback runs before its grace period) besides the behaviour it is
// named for. `ktest busted:NAME` runs the same test with rcu_busted set, so
// synchronize_rcu returns at once and call_rcu runs its callback at once:
// every test must then FAIL, which is how the suite shows that it bites.
// The torture test lives in rcutorture.cc.
#include "ktest/ktest.hh"
#include "tickhook.hh"
#include "proc.hh"
#include "kalloc.hh"
#include "apic.hh"

namespace {
constexpr uint64_t LIVE = 0x11fe11fe11fe11feUL;

// A protected object: readers check `magic`; freeing poisons it.
struct tobj {
    uint64_t magic = LIVE;
    uint64_t gen = 0;
    rcu_head rcu;
};

int other_cpu() { return (this_cpu_index() + 1) % ncpu; }

// ---- synchronize_rcu waits for a reader (plain, nested, expedited) ----
struct held_reader {
    int nest;                          // 1: one section; 2: nested pair
    uint64_t hold_ns;
    std::atomic<int> inside{0};
    std::atomic<uint64_t> inner_unlocked_at{0}, left_at{0};
};

void held_reader_fn(void* arg) {
    auto* h = static_cast<held_reader*>(arg);
    rcu_read_lock();
    if (h->nest == 2) rcu_read_lock();
    h->inside.store(1);
    delay_ns(h->hold_ns / 2);
    if (h->nest == 2) {
        rcu_read_unlock();             // inner unlock: still protected
        h->inner_unlocked_at.store(clock_ns());
    }
    delay_ns(h->hold_ns / 2);
    h->left_at.store(clock_ns());
    rcu_read_unlock();
    proc_exit(0);
}

long test_wait_reader(const char* name, int nest, bool expedited, long hold_ms) {
    if (ncpu < 2) {
        log_printf("ktest %s: needs 2 CPUs", name);
        return -EINVAL;
    }
    held_reader h{nest, uint64_t(hold_ms) * 1000000};
    proc* p = kthread_spawn_on(other_cpu(), "held-reader", held_reader_fn, &h);
    while (!h.inside.load()) msleep(1);
    uint64_t t0 = clock_ns();
    if (expedited) synchronize_rcu_expedited(); else synchronize_rcu();
    uint64_t t1 = clock_ns();
    uint64_t left = h.left_at.load();
    kthread_join(p);
    bool ok = left != 0 && left <= t1;
    log_printf("ktest %s: %s took %lu us; reader (%d-deep, %ld ms) %s: %s", name,
               expedited ? "synchronize_rcu_expedited" : "synchronize_rcu", (t1 - t0) / 1000,
               nest, hold_ms, left ? "had left first" : "was STILL INSIDE its section",
               ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-wait-reader", [](long ms) { return test_wait_reader("rcu-wait-reader", 1, false, ms); }, 50,
      "synchronize_rcu waits for a reader (ARG ms) on another CPU");
KTEST("rcu-nested", [](long ms) { return test_wait_reader("rcu-nested", 2, false, ms); }, 50,
      "synchronize_rcu waits for the outer of two nested read sections");
KTEST("rcu-expedited", [](long ms) { return test_wait_reader("rcu-expedited", 1, true, ms); }, 50,
      "synchronize_rcu_expedited waits for a reader (ARG ms) on another CPU");

// ---- grace periods with the other CPUs idle / busy, readers in interrupts ----
rcu_ptr<tobj> gp_obj;
std::atomic<bool> irq_readers_on{false};
std::atomic<uint64_t> irq_reads{0}, irq_violations{0};

// irq_reader(): from the timer interrupt on every CPU while a test runs: a
// read section of ~20 us that checks its object stays alive throughout.
void irq_reader() {
    rcu_read_guard g;
    tobj* o = gp_obj.load();
    if (!o) return;
    uint64_t m1 = o->magic;
    delay_ns(20000);
    uint64_t m2 = o->magic;
    irq_reads.fetch_add(1, std::memory_order_relaxed);
    if (m1 != LIVE || m2 != LIVE) irq_violations.fetch_add(1);
}
TICK_HOOK(rcu_gp_irq_readers, irq_readers_on, irq_reader);

struct kernel_reader_ctl {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> reads{0}, violations{0};
};

// kernel_reader_fn: back-to-back read sections of 0..200 us in a kernel
// thread, with the CPU otherwise busy (never idle, rarely scheduling).
void kernel_reader_fn(void* arg) {
    auto* k = static_cast<kernel_reader_ctl*>(arg);
    uint64_t x = clock_ns() | 1;
    while (!k->stop.load(std::memory_order_relaxed)) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        rcu_read_guard g;
        tobj* o = gp_obj.load();
        uint64_t m1 = o->magic;
        delay_ns(x % 200000);
        if (m1 != LIVE || o->magic != LIVE) k->violations.fetch_add(1);
        k->reads.fetch_add(1, std::memory_order_relaxed);
    }
    proc_exit(0);
}

void free_tobj_cb(rcu_head* h) { delete container_of(h, tobj, rcu); }

// test_gp(ms, kernel_readers): for `ms`, replace gp_obj and free the old one
// after a grace period (alternately synchronize_rcu+delete and call_rcu),
// while timer-interrupt readers run on every CPU and, with kernel_readers,
// kernel threads read on every other CPU. Reports grace-period latency.
long test_gp(const char* name, long ms, bool kernel_readers, bool others_idle) {
    constexpr int MAXSAMPLES = 4096;
    static uint64_t lat[MAXSAMPLES];
    int nlat = 0;
    gp_obj.publish(new tobj);
    irq_reads = 0;
    irq_violations = 0;
    kernel_reader_ctl k;
    proc* readers[MAXCPU] = {};
    int me = this_cpu_index();
    if (kernel_readers) {
        for (int i = 0; i < ncpu; ++i) {
            if (i != me) readers[i] = kthread_spawn_on(i, "gp-reader", kernel_reader_fn, &k);
        }
    }
    irq_readers_on.store(true);
    uint64_t gp0 = rcu_completed_gp(), end = clock_ns() + ms * 1000000UL;
    uint64_t writes = 0;
    while (clock_ns() < end) {
        tobj* n = new tobj;
        n->gen = ++writes;
        tobj* old = gp_obj.exchange(n);
        uint64_t t0 = clock_ns();
        if (writes % 2) {
            synchronize_rcu();
            if (nlat < MAXSAMPLES) lat[nlat++] = clock_ns() - t0;
            delete old;
        } else {
            call_rcu(&old->rcu, free_tobj_cb);
        }
    }
    irq_readers_on.store(false);
    k.stop.store(true);
    for (proc* p : readers) if (p) kthread_join(p);
    synchronize_rcu();
    delete gp_obj.exchange(nullptr);
    rcu_barrier();
    // Median and maximum latency (insertion sort: small n).
    for (int i = 1; i < nlat; ++i) {
        for (int j = i; j > 0 && lat[j - 1] > lat[j]; --j) {
            uint64_t t = lat[j]; lat[j] = lat[j - 1]; lat[j - 1] = t;
        }
    }
    uint64_t violations = irq_violations.load() + k.violations.load();
    uint64_t gps = rcu_completed_gp() - gp0;
    log_printf("ktest %s: %lu writes, %lu grace periods, synchronize_rcu median %lu us max %lu us "
               "(tick %u us); %lu irq reads, %lu kernel-thread reads, %lu saw a freed object: %s",
               name, writes, gps, nlat ? lat[nlat / 2] / 1000 : 0, nlat ? lat[nlat - 1] / 1000 : 0,
               1000000 / kopts.hz, irq_reads.load(), k.reads.load(), violations,
               violations == 0 && gps >= 10 ? "ok" : "FAILED");
    // With every other CPU idle, nothing may hold a grace period up: the
    // writer's own CPU is the only one that has to report, at once.
    bool idle_fast = !others_idle || (nlat > 0 && lat[nlat / 2] < 500000000UL / kopts.hz);
    if (!idle_fast) log_printf("ktest %s: idle CPUs held grace periods up: FAILED", name);
    return violations == 0 && gps >= 10 && idle_fast ? 0 : -1;
}
KTEST("rcu-gp-idle", [](long ms) { return test_gp("rcu-gp-idle", ms, false, true); }, 2000,
      "ARG ms of grace periods with interrupt readers, other CPUs idle: no delay, no freed reads");
KTEST("rcu-gp-busy", [](long ms) { return test_gp("rcu-gp-busy", ms, false, false); }, 2000,
      "ARG ms of grace periods with interrupt readers while the CPUs are busy");
KTEST("rcu-gp-readers", [](long ms) { return test_gp("rcu-gp-readers", ms, true, false); }, 2000,
      "ARG ms of grace periods with kernel-thread readers on every other CPU");

// ---- the stall warning ----
struct stall_ctl {
    uint64_t hold_ms = 0;              // rcu-stall: how long to hold the section
    uint64_t reports_before = 0;       // rcu-stall-start: hold until a report after this
    uint64_t give_up_ns = 0;
    std::atomic<int> inside{0};
    uint64_t held_at_report_ns = 0;
    bool gave_up = false;
};

void stall_reader_fn(void* arg) {
    auto* s = static_cast<stall_ctl*>(arg);
    {
        rcu_read_guard g;
        uint64_t entered = clock_ns();
        s->inside.store(1);
        if (s->hold_ms) {
            delay_ns(s->hold_ms * 1000000);
        } else {
            while (rcu_stall_reports.load() == s->reports_before && !s->gave_up) {
                s->gave_up = clock_ns() > s->give_up_ns;
                cpu_relax();
            }
            s->held_at_report_ns = clock_ns() - entered;
        }
    }
    proc_exit(0);
}

long test_stall(long hold_ms) {
    if (ncpu < 2) return -EINVAL;
    uint64_t before = rcu_stall_reports.load();
    int cpu = other_cpu();
    stall_ctl s;
    s.hold_ms = hold_ms;
    proc* p = kthread_spawn_on(cpu, "stall-reader", stall_reader_fn, &s);
    while (!s.inside.load()) msleep(1);
    synchronize_rcu();                 // its GP started after the reader entered
    kthread_join(p);
    bool ok = rcu_stall_reports.load() > before;
    log_printf("ktest rcu-stall: reader on cpu%d held its section %ld ms (threshold %u ms): "
               "stall warning %s", cpu, hold_ms, kopts.rcu_stall_ms, ok ? "printed: ok" : "MISSING: FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-stall", test_stall, 1000, "a reader that holds its section ARG ms gets a stall warning");

// test_stall_start(): after a quiet stretch longer than the stall
// threshold, a grace period starts while a reader holds it up, and the
// stall check runs at the worst moment: right after gp_seq turned odd
// (rcu_stall_check_at_gp_start). A detector that reads the previous GP's
// start time there reports a stall at once, with an empty mask, and then
// stays silent about the real one, since it reports once per GP. The
// reader holds its section until a report comes (an event), so the test
// checks that the first report came only after the reader had held the
// GP up for the threshold: a correct report cannot come sooner, however
// slow the host. Shown to fail with start_gp_locked storing the start
// time after making gp_seq odd (as it once did): "report after 0 ms".
long test_stall_start(long) {
    if (ncpu < 2) return -EINVAL;
    uint64_t threshold_ns = uint64_t(kopts.rcu_stall_ms) * 1000000;
    synchronize_rcu();
    bool quiet = false;
    for (int tries = 0; tries < 5 && !quiet; ++tries) {
        uint64_t started = rcu_get_stats().gp_started;
        msleep(kopts.rcu_stall_ms + 50);
        quiet = rcu_get_stats().gp_started == started;
    }
    if (!quiet) {
        log_printf("ktest rcu-stall-start: grace periods kept starting; no quiet stretch: FAILED");
        return -1;
    }
    stall_ctl s;
    s.reports_before = rcu_stall_reports.load();
    s.give_up_ns = clock_ns() + 10 * threshold_ns;
    rcu_stall_check_at_gp_start = true;
    int cpu = other_cpu();
    proc* p = kthread_spawn_on(cpu, "stall-reader", stall_reader_fn, &s);
    while (!s.inside.load()) msleep(1);
    synchronize_rcu();
    rcu_stall_check_at_gp_start = false;
    kthread_join(p);
    uint64_t reports = rcu_stall_reports.load() - s.reports_before;
    bool ok = !s.gave_up && reports == 1 && s.held_at_report_ns >= threshold_ns;
    log_printf("ktest rcu-stall-start: reader on cpu%d: %s; %lu reports (threshold %u ms): %s", cpu,
               s.gave_up ? "NO stall report while it held the grace period up"
                         : "first stall report",
               reports, kopts.rcu_stall_ms, ok ? "ok" : "FAILED");
    if (!s.gave_up) log_printf("ktest rcu-stall-start: report after the reader held %lu ms",
                               s.held_at_report_ns / 1000000);
    return ok ? 0 : -1;
}
KTEST("rcu-stall-start", test_stall_start, 0,
      "a stall report right at a GP's start, after a quiet stretch, must not be stale or spurious");

// ---- callbacks: order, CPU, grace period, barrier, flood ----
struct cb_obj {
    rcu_head rcu;
    uint64_t queued_gp_seq;    // rcu_completed_gp() when queued
    int cpu;
    uint64_t seq;
    char payload[200];
};
std::atomic<uint64_t> cb_run{0}, cb_early{0}, cb_wrong_cpu{0}, cb_out_of_order{0};
uint64_t cb_last_seq[MAXCPU];

void checking_cb(rcu_head* h) {
    cb_obj* o = container_of(h, cb_obj, rcu);
    int cpu = this_cpu_index();      // (busted:, the caller's task runs it, preemptible)
    if (rcu_completed_gp() < o->queued_gp_seq + 1) cb_early.fetch_add(1);
    if (cpu != o->cpu) cb_wrong_cpu.fetch_add(1);
    if (o->seq <= cb_last_seq[o->cpu]) cb_out_of_order.fetch_add(1);
    cb_last_seq[o->cpu] = o->seq;
    cb_run.fetch_add(1);
    delete o;
}

struct queue_ctl {
    long count;                 // callbacks to queue (flood: 0 = until stop)
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> queued{0};
    std::atomic<uint64_t> min_free{~0UL};
};

uint64_t cb_next_seq[MAXCPU];

void queue_callbacks_fn(void* arg) {
    auto* q = static_cast<queue_ctl*>(arg);
    for (long i = 0; q->count == 0 ? !q->stop.load(std::memory_order_relaxed) : i < q->count; ++i) {
        cb_obj* o = new cb_obj;
        assert(o);
        o->cpu = current()->pinned;    // queuers are pinned: one per CPU
        o->seq = ++cb_next_seq[o->cpu];
        o->queued_gp_seq = rcu_completed_gp();
        call_rcu(&o->rcu, checking_cb);
        q->queued.fetch_add(1, std::memory_order_relaxed);
        if ((i & 255) == 0) {
            uint64_t f = pmem_free_pages(), m = q->min_free.load();
            while (f < m && !q->min_free.compare_exchange_weak(m, f)) {}
            yield();
        }
    }
    proc_exit(0);
}

void reset_cb_counters() {
    cb_run = cb_early = cb_wrong_cpu = cb_out_of_order = 0;
    for (int i = 0; i < MAXCPU; ++i) cb_last_seq[i] = cb_next_seq[i] = 0;
}

long report_callbacks(const char* name, uint64_t expected, const char* extra, bool extra_ok) {
    bool ok = cb_run.load() == expected && cb_early.load() == 0 && cb_wrong_cpu.load() == 0
        && cb_out_of_order.load() == 0 && extra_ok;
    log_printf("ktest %s: %lu of %lu callbacks ran, %lu before their grace period, %lu on another CPU, "
               "%lu out of order%s: %s", name, cb_run.load(), expected, cb_early.load(),
               cb_wrong_cpu.load(), cb_out_of_order.load(), extra, ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}

// test_barrier(per_cpu): kernel threads on every CPU queue callbacks; after
// rcu_barrier() every one of them must have run, in order, on its CPU.
long test_barrier(long per_cpu) {
    reset_cb_counters();
    queue_ctl q;
    q.count = per_cpu;
    proc* t[MAXCPU];
    for (int i = 0; i < ncpu; ++i) t[i] = kthread_spawn_on(i, "cb-queuer", queue_callbacks_fn, &q);
    for (int i = 0; i < ncpu; ++i) kthread_join(t[i]);
    rcu_barrier();
    return report_callbacks("rcu-barrier", uint64_t(per_cpu) * ncpu, "", true);
}
KTEST("rcu-barrier-test", test_barrier, 2000,
      "ARG callbacks per CPU: after rcu_barrier all ran, in order, on their CPU, after their GP");
KTEST("rcu-barrier", [](long) { rcu_barrier(); return 0L; }, 0,
      "not a test: wait until every queued callback has run (rcu_barrier)");

// test_flood(seconds): every CPU queues callbacks flat out. The backlog
// must stay bounded (callers help past RCU_CB_LIMIT), and after
// rcu_barrier every page must be back.
long test_flood(long seconds) {
    rcu_barrier();
    reset_cb_counters();
    size_t free0 = pmem_free_pages();
    queue_ctl q;
    q.count = 0;
    proc* t[MAXCPU];
    for (int i = 0; i < ncpu; ++i) t[i] = kthread_spawn_on(i, "cb-flood", queue_callbacks_fn, &q);
    msleep(seconds * 1000);
    q.stop.store(true);
    for (int i = 0; i < ncpu; ++i) kthread_join(t[i]);
    rcu_barrier();
    size_t free1 = free_pages_settled(free0);
    uint64_t high = rcu_get_stats().cb_high_water;
    size_t peak_pages = free0 - min(free0, size_t(q.min_free.load()));
    // Bound: each CPU's backlog stays near RCU_CB_LIMIT objects of 256 bytes.
    size_t bound_pages = ncpu * (RCU_CB_LIMIT + 2000) * 256 / PAGESIZE + 512;
    char extra[200];
    snprintf(extra, sizeof(extra), "; %lu queued, backlog high-water %lu (limit %lu), peak %zu pages "
             "(bound %zu), free pages %zu before, %zu after", q.queued.load(), high, RCU_CB_LIMIT,
             peak_pages, bound_pages, free0, free1);
    bool bounded = high <= RCU_CB_LIMIT + 2000 && peak_pages <= bound_pages && free1 == free0;
    return report_callbacks("rcu-flood", q.queued.load(), extra, bounded && q.queued.load() > 0);
}
KTEST("rcu-flood", test_flood, 10, "every CPU queues callbacks for ARG s: backlog bounded, no page lost");

// ---- misuse: each of these must be caught (panic or warning) ----
rcu_ptr<tobj> misuse_ptr;

[[gnu::noinline]] long misuse_sleep_in_section() {
    rcu_read_guard g;
    msleep(1);                       // panics: sleeping inside a read section
    log_printf("ktest rcu-misuse-sleep: slept inside a read section and nothing noticed: FAILED");
    return -1;
}
[[gnu::noinline]] long misuse_unbalanced_unlock() {
    rcu_read_unlock();               // panics: no matching rcu_read_lock
    log_printf("ktest rcu-misuse-unlock: an unmatched rcu_read_unlock went unnoticed: FAILED");
    return -1;
}
[[gnu::noinline]] long misuse_sync_in_section() {
    rcu_read_guard g;
    synchronize_rcu();               // panics: would wait for itself
    log_printf("ktest rcu-misuse-sync: synchronize_rcu inside a read section returned "
               "(a read section must disable preemption): FAILED");
    return -1;
}
[[gnu::noinline]] long misuse_unprotected_load() {
    tobj* o = misuse_ptr.load();     // warns with a backtrace, then goes on
    return o ? -1 : 0;
}
KTEST("rcu-misuse-sleep", [](long) { return misuse_sleep_in_section(); }, 0,
      "msleep inside a read section: must PANIC");
KTEST("rcu-misuse-unlock", [](long) { return misuse_unbalanced_unlock(); }, 0,
      "rcu_read_unlock without rcu_read_lock: must PANIC");
KTEST("rcu-misuse-sync", [](long) { return misuse_sync_in_section(); }, 0,
      "synchronize_rcu inside a read section: must PANIC");
KTEST("rcu-misuse-load", [](long) { return misuse_unprotected_load(); }, 0,
      "rcu_ptr::load outside a read section: must warn with a backtrace");

// ---- holding a grace period up, for GDB (user/gdbdemo.cc) ----
// ktest_hold_gp(max_ms): hold up the running grace period on purpose: a
// read section with interrupts off too, so that nothing on this CPU changes
// while others look at it (GDB, sys_kprint("state"): an interrupt
// handler would raise the count for a moment). It ends when someone asks
// for a later grace period (rcu_later_gp_requested), which is an event,
// not a time: a slow host cannot make it end early. max_ms only guards against waiting
// forever: then it returns -1.
std::atomic<int> gp_holders{0};
long ktest_hold_gp(long max_ms) {
    rcu_read_guard rg;
    irq_guard ig;
    gp_holders.fetch_add(1);
    uint64_t give_up = clock_ns() + uint64_t(max_ms) * 1000000;
    long result = 0;
    while (!rcu_later_gp_requested()) {
        if (clock_ns() > give_up) {
            log_printf("ktest hold-gp: nobody asked for a later grace period in %ld ms", max_ms);
            result = -1;
            break;
        }
        cpu_relax();
    }
    gp_holders.fetch_sub(1);
    return result;
}

// ktest_hold_gp_ready(max_ms): sleep until some CPU is inside hold-gp (so
// a grace period that starts now waits for it); -1 after max_ms.
long ktest_hold_gp_ready(long max_ms) {
    uint64_t give_up = clock_ns() + uint64_t(max_ms) * 1000000;
    while (gp_holders.load() == 0) {
        if (clock_ns() > give_up) return -1;
        msleep(1);
    }
    return 0;
}
KTEST("hold-gp", ktest_hold_gp, 60000,
      "not a test: hold the running grace period until a later one is asked for (at most ARG ms)");
KTEST("hold-gp-ready", ktest_hold_gp_ready, 60000,
      "not a test: wait (at most ARG ms) until some CPU runs hold-gp");
}
