// kernel/ktest/ktest_rcu_moments.cc: RCU self-tests that each stage one
// precise moment in a grace period's life, by events (a flag, a count, the
// grace-period number), never by sleeping "long enough":
//   rcu-gp-inflight      (3+ CPUs) synchronize_rcu called while a GP is
//                        already in flight must also wait for a reader that
//                        entered after that GP started
//   rcu-cb-inflight      the same for a call_rcu callback
//   rcu-gp-progress N    every CPU runs N back-to-back kernel read sections
//                        while a writer asks for GPs: GPs keep completing
//   rcu-expedited-ipi    synchronize_rcu_expedited with a reader inside its
//                        section on every other CPU when the IPIs arrive
//   rcu-idle-irq         an interrupt handler reading on an idle CPU when a
//                        GP starts: that GP waits for it
//   rcu-barrier-slow M   rcu_barrier with slow callbacks on every CPU (the
//                        CPUs in bitmask M busy in user mode, the others
//                        idle): every one has FINISHED when it returns
// Each comment below names the broken kernel its test catches, and `make
// mutate` (tests/mutations.py) keeps applying those bugs: with grace
// periods skipped altogether (`busted:`) most of these moments never come.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"
#include "tickhook.hh"

namespace {
// wait_for(cond, give_up_ns): spin until cond() or the clock passes
// give_up_ns (a broken kernel must fail, not hang); cond()'s last value.
template <typename F>
bool wait_for(F cond, uint64_t give_up_ns) {
    while (!cond()) {
        if (clock_ns() > give_up_ns) return false;
        cpu_relax();
    }
    return true;
}
constexpr uint64_t GIVE_UP_NS = 5000000000UL;

// ---- a grace period already in flight ----
// CPU 1: reader A enters while no GP runs. CPU 2: a "starter" calls
// synchronize_rcu, so GP g starts and waits for A. CPU 0: reader B enters
// after g started (its CPU owes g nothing). CPU 2: the caller calls
// synchronize_rcu (or call_rcu). A leaves once the caller is waiting, so g
// ends while B is still inside; B stays until a GP that waits for its CPU
// is running, or until the caller's wait ended, which would be too early:
// the caller's GP must be a full one after its call, so it must wait for B.
// Nothing else may ask for a GP meanwhile (B would take it for the
// caller's), so the tasks are joined, and freed, only at the end.
// Broken the way it guards against (the wait or the callback's GP number
// taken as the end of the GP in flight, not snap()): "ended while reader B
// was still inside". For call_rcu, the starter starts g with a call_rcu of
// its own on CPU 2 (instead of synchronize_rcu), so that when g ends CPU 2's
// list holds that "older" callback, ready, followed by the caller's, which
// is not; and B also stays until the batch of callbacks that ran the older
// one is over (CPU 2's cb_invoked moves past it). A kernel that runs the
// whole list once its head is ready runs the caller's callback in that
// batch, while B is inside: it fails the same way, every time (mutation
// cb-runs-before-ready).
struct inflight_ctl {
    bool use_call_rcu;
    uint64_t give_up_ns;
    std::atomic<int> a_inside{0}, b_inside{0};
    std::atomic<bool> b_left{false}, waiting{false}, done{false}, starter_done{false};
    std::atomic<bool> early{false}, gave_up{false};
    std::atomic<uint64_t> g{0};
    std::atomic<proc*> caller{nullptr};
    rcu_head head;
    rcu_head older;                            // the starter's, ready when g ends
    std::atomic<bool> older_ran{false};
    uint64_t invoked_before_older = 0;         // CPU 2's cb_invoked before its batch
};

void inflight_reader_a(void* arg) {
    auto* c = static_cast<inflight_ctl*>(arg);
    for (;;) {
        rcu_read_lock();
        if (!(rcu_gp_seq() & 1)) break;        // no GP running: g will wait for us
        rcu_read_unlock();
        msleep(1);
    }
    c->a_inside.store(1);
    bool ok = wait_for([&] {
        proc* p = c->caller.load();
        bool sleeping = p && p->state.load() == TASK_SLEEPING;
        return c->waiting.load() || c->done.load() || sleeping || rcu_later_gp_requested();
    }, c->give_up_ns);
    if (!ok) c->gave_up.store(true);
    rcu_read_unlock();
    proc_exit(0);
}

void inflight_older_cb(rcu_head* h) {
    auto* c = container_of(h, inflight_ctl, older);
    c->invoked_before_older = __atomic_load_n(&this_cpu()->rcu.cb_invoked, __ATOMIC_RELAXED);
    c->older_ran.store(true);
}

// older_batch_over(c): the batch of callbacks that ran the older one has
// ended (cb_invoked grows once a batch has run, rcu_do_callbacks).
bool older_batch_over(inflight_ctl* c) {
    return c->older_ran.load()
           && __atomic_load_n(&cpus[2].rcu.cb_invoked, __ATOMIC_ACQUIRE) > c->invoked_before_older;
}

void inflight_starter(void* arg) {
    auto* c = static_cast<inflight_ctl*>(arg);
    while (!c->a_inside.load()) cpu_relax();
    if (c->use_call_rcu) {
        // call_rcu starts g itself; synchronize_rcu after it would ask for
        // the GP after g, which lets reader A go before B is inside.
        call_rcu(&c->older, inflight_older_cb);
        while (!c->older_ran.load() && clock_ns() < c->give_up_ns) msleep(1);
    } else {
        synchronize_rcu();
    }
    c->starter_done.store(true);
    proc_exit(0);
}

void inflight_reader_b(void* arg) {
    auto* c = static_cast<inflight_ctl*>(arg);
    uint64_t g = c->g.load();
    int me = current()->pinned;
    for (;;) {
        rcu_read_lock();
        if (rcu_gp_seq() != g || !rcu_gp_waits_for(me)) break;
        rcu_read_unlock();                     // g still waits for this CPU: pass a QS first
        yield();
    }
    bool in_g = rcu_gp_seq() == g;
    c->b_inside.store(1);
    bool ok = wait_for([&] {
        uint64_t s = rcu_gp_seq();
        return c->done.load()
               || (s > g && rcu_gp_waits_for(me) && (!c->use_call_rcu || older_batch_over(c)));
    }, c->give_up_ns);
    if (!ok) c->gave_up.store(true);
    if (c->done.load()) c->early.store(true);
    if (!in_g) {
        log_printf("ktest inflight: grace period %lu ended before reader B was inside", g);
        c->gave_up.store(true);
    }
    c->b_left.store(true);
    rcu_read_unlock();
    proc_exit(0);
}

void inflight_cb(rcu_head* h) {
    auto* c = container_of(h, inflight_ctl, head);
    if (!c->b_left.load()) c->early.store(true);
    c->done.store(true);
}

void inflight_caller(void* arg) {
    auto* c = static_cast<inflight_ctl*>(arg);
    while (!c->b_inside.load()) cpu_relax();
    if (c->use_call_rcu) {
        call_rcu(&c->head, inflight_cb);
        c->waiting.store(true);
    } else {
        c->caller.store(current());
        synchronize_rcu();
        if (!c->b_left.load()) c->early.store(true);
        c->done.store(true);
    }
    proc_exit(0);
}

long test_inflight(const char* name, bool use_call_rcu) {
    if (ncpu < 3) {
        log_printf("ktest %s: needs 3 CPUs", name);
        return -EINVAL;
    }
    synchronize_rcu();
    inflight_ctl c;
    c.use_call_rcu = use_call_rcu;
    c.give_up_ns = clock_ns() + GIVE_UP_NS;
    proc* a = kthread_spawn_on(1, "reader-a", inflight_reader_a, &c);
    proc* starter = kthread_spawn_on(2, "gp-starter", inflight_starter, &c);
    wait_for([&] { return (c.a_inside.load() && (rcu_gp_seq() & 1)) || c.starter_done.load(); },
             c.give_up_ns);
    c.g.store(rcu_gp_seq());
    bool started = (c.g.load() & 1) && !c.starter_done.load();
    proc* b = started ? kthread_spawn_on(0, "reader-b", inflight_reader_b, &c) : nullptr;
    proc* caller = started ? kthread_spawn_on(2, "gp-caller", inflight_caller, &c) : nullptr;
    if (!started) c.done.store(true);        // (releases reader A)
    // No kthread_join before the wait is over: freeing a task asks for a
    // grace period, which B would take for the caller's.
    while (!c.done.load() && !c.gave_up.load()) msleep(1);
    for (proc* p : {a, starter, b, caller}) if (p) kthread_join(p);
    if (use_call_rcu) rcu_barrier();
    bool ok = started && c.done.load() && !c.early.load() && !c.gave_up.load()
              && (!use_call_rcu || c.older_ran.load());
    log_printf("ktest %s: %s called during grace period %lu: %s", name,
               use_call_rcu ? "call_rcu's callback" : "synchronize_rcu",
               c.g.load() / 2 + 1,
               !started ? "no grace period started (NOT TESTED)"
               : c.early.load()
                   ? "ENDED while reader B, which entered after that GP began, was still inside"
               : c.gave_up.load() ? "the moment never came (gave up)"
               : "waited for reader B, which entered after that GP began");
    return ok ? 0 : -1;
}
KTEST("rcu-gp-inflight", [](long) { return test_inflight("rcu-gp-inflight", false); }, 0,
      "(3+ CPUs) synchronize_rcu during a GP waits for a reader that entered after it began");
KTEST("rcu-cb-inflight", [](long) { return test_inflight("rcu-cb-inflight", true); }, 0,
      "(3+ CPUs) call_rcu during a GP waits for a reader that entered after it began");

// ---- grace periods keep completing under back-to-back read sections ----
// Every CPU runs N read sections of 50 us back to back in a kernel thread,
// never idle and never sleeping, all starting together; a writer on CPU 0
// calls synchronize_rcu in a loop. The GPs that complete between the start
// and the moment the first reader is done are counted (after that, a CPU
// that is done no longer holds GPs up). Quiescent states then come only
// from the deferred reschedule: a tick that finds its CPU in a section the
// GP waits for sets need_resched, and the outermost rcu_read_unlock
// schedules. At least one GP per 200 sections (a fixed count of sections,
// not a time; about one per 30 is usual) must complete. Broken the way it guards against (the
// tick not setting need_resched, or rcu_read_unlock not rescheduling):
// about none complete.
constexpr uint64_t PROGRESS_SECTION_NS = 50000;
constexpr long SECTIONS_PER_GP = 200;
struct progress_ctl {
    long sections;
    std::atomic<int> readers_ready{0}, readers_done{0};
    std::atomic<uint64_t> gp_at_start{0}, gp_at_first_done{0};
    std::atomic<uint64_t> writer_gps{0};
};

void progress_reader(void* arg) {
    auto* p = static_cast<progress_ctl*>(arg);
    if (p->readers_ready.fetch_add(1) + 1 == ncpu) p->gp_at_start.store(rcu_completed_gp());
    while (p->readers_ready.load() < ncpu) cpu_relax();
    for (long i = 0; i < p->sections; ++i) {
        rcu_read_guard g;
        delay_ns(PROGRESS_SECTION_NS);
    }
    if (p->readers_done.fetch_add(1) == 0) p->gp_at_first_done.store(rcu_completed_gp());
    proc_exit(0);
}

void progress_writer(void* arg) {
    auto* p = static_cast<progress_ctl*>(arg);
    while (p->readers_done.load() < ncpu) {
        synchronize_rcu();
        p->writer_gps.fetch_add(1);
    }
    proc_exit(0);
}

long test_gp_progress(long sections) {
    progress_ctl p;
    p.sections = sections;
    synchronize_rcu();
    proc* threads[MAXCPU + 1];
    for (int i = 0; i < ncpu; ++i) {
        threads[i] = kthread_spawn_on(i, "rcu-reader", progress_reader, &p);
    }
    threads[ncpu] = kthread_spawn_on(0, "gp-writer", progress_writer, &p);
    for (int i = 0; i <= ncpu; ++i) kthread_join(threads[i]);
    uint64_t gps = p.gp_at_first_done.load() - p.gp_at_start.load();
    uint64_t needed = uint64_t(sections / SECTIONS_PER_GP);
    bool ok = gps >= needed && p.writer_gps.load() > 0;
    log_printf("ktest rcu-gp-progress: %d CPUs x %ld back-to-back read sections of %lu us: %lu "
               "grace periods completed before the first CPU was done (at least %lu needed): %s",
               ncpu, sections,
               PROGRESS_SECTION_NS / 1000, gps, needed, ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-gp-progress", test_gp_progress, 4000,
      "every CPU runs ARG back-to-back kernel read sections: GPs keep completing");

// ---- expedited, with a reader in its section at the IPI on every other CPU ----
// A reader on each other CPU enters its section, and stays until it has
// seen need_resched set three times while inside (the expedited GP's
// IPIs, every 200 us, or a tick: either came while it was inside) or the
// expedited call returned, which would be too early. Broken the way it
// guards against (the IPI handler reporting a quiescent state without
// looking at the interrupted context): the call returns at the first IPI.
struct expedited_ctl {
    uint64_t give_up_ns;
    std::atomic<int> inside{0}, left{0};
    std::atomic<bool> returned{false}, early{false}, gave_up{false};
    std::atomic<uint64_t> sightings{0};
};

void expedited_reader(void* arg) {
    auto* e = static_cast<expedited_ctl*>(arg);
    {
        rcu_read_guard g;
        e->inside.fetch_add(1);
        int seen = 0;
        while (seen < 3 && !e->returned.load()) {
            if (this_cpu()->need_resched) {
                this_cpu()->need_resched = 0;    // count it; set again below
                ++seen;
            }
            if (clock_ns() > e->give_up_ns) {
                e->gave_up.store(true);
                break;
            }
            cpu_relax();
        }
        if (e->returned.load()) e->early.store(true);
        e->sightings.fetch_add(seen);
        e->left.fetch_add(1);
        set_need_resched();                      // the reschedule held back for the section
    }
    proc_exit(0);
}

void expedited_caller(void* arg) {
    auto* e = static_cast<expedited_ctl*>(arg);
    while (e->inside.load() < ncpu - 1) cpu_relax();
    synchronize_rcu_expedited();
    if (e->left.load() < ncpu - 1) e->early.store(true);
    e->returned.store(true);
    proc_exit(0);
}

long test_expedited_ipi(long) {
    if (ncpu < 2) return -EINVAL;
    expedited_ctl e;
    e.give_up_ns = clock_ns() + GIVE_UP_NS;
    proc* threads[MAXCPU];
    for (int i = 1; i < ncpu; ++i) {
        threads[i] = kthread_spawn_on(i, "held-reader", expedited_reader, &e);
    }
    threads[0] = kthread_spawn_on(0, "exp-caller", expedited_caller, &e);
    for (int i = 0; i < ncpu; ++i) kthread_join(threads[i]);
    bool ok = !e.early.load() && !e.gave_up.load() && e.returned.load();
    log_printf("ktest rcu-expedited-ipi: readers on %d other CPUs saw %lu interruptions inside "
               "their sections; synchronize_rcu_expedited %s: %s", ncpu - 1, e.sightings.load(),
               e.early.load() ? "RETURNED while a reader was still inside"
               : e.gave_up.load() ? "never returned (gave up)" : "waited for every reader",
               ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-expedited-ipi", test_expedited_ipi, 0,
      "synchronize_rcu_expedited with a reader inside at the IPI on every other CPU");

// ---- a read section in an interrupt on an idle CPU ----
// CPU 1 is idle, and a writer on CPU 0 calls synchronize_rcu in a loop.
// On each of CPU 1's ticks that wakes it from the idle loop, a tick hook
// enters a read section and stays until the first GP that starts after it
// entered either waits for CPU 1 (right: the interrupt made RCU watch the
// idle CPU) or completes (wrong: the handler's section was not protected),
// or for at most 5 ms. Twenty such ticks must see the first and none the
// second. Broken the way it guards against (rcu_irq_enter not making an
// idle CPU's dynticks odd): the first trial completes a GP under it.
struct idle_irq_ctl {
    std::atomic<int> target{-1};
    std::atomic<uint64_t> waited{0}, unprotected{0}, undecided{0};
    std::atomic<bool> stop_writer{false};
};
idle_irq_ctl idle_irq;
std::atomic<bool> idle_irq_on{false};

void idle_irq_reader() {
    cpu* c = this_cpu();
    if (c->index != idle_irq.target.load() || !c->in_idle) return;
    rcu_read_guard g;
    uint64_t s0 = rcu_gp_seq();
    uint64_t g1 = s0 & 1 ? s0 + 2 : s0 + 1;      // the first GP to start after now
    uint64_t give_up = clock_ns() + 5000000;
    while (true) {
        uint64_t s = rcu_gp_seq();
        if (s > g1) {
            idle_irq.unprotected.fetch_add(1);
            return;
        }
        if (s == g1 && rcu_gp_waits_for(c->index)) {
            idle_irq.waited.fetch_add(1);
            return;
        }
        if (clock_ns() > give_up) {
            idle_irq.undecided.fetch_add(1);
            return;
        }
        cpu_relax();
    }
}
TICK_HOOK(rcu_idle_irq_reader, idle_irq_on, idle_irq_reader);

void idle_irq_writer(void*) {
    while (!idle_irq.stop_writer.load()) synchronize_rcu();
    proc_exit(0);
}

long test_idle_irq(long) {
    if (ncpu < 2) return -EINVAL;
    idle_irq.waited = idle_irq.unprotected = idle_irq.undecided = 0;
    idle_irq.stop_writer = false;
    idle_irq.target.store(1);
    proc* writer = kthread_spawn_on(0, "gp-writer", idle_irq_writer, nullptr);
    idle_irq_on.store(true);
    uint64_t give_up = clock_ns() + GIVE_UP_NS;
    while (idle_irq.waited.load() < 20 && idle_irq.unprotected.load() == 0
           && clock_ns() < give_up) {
        msleep(1);
    }
    idle_irq_on.store(false);
    idle_irq.stop_writer.store(true);
    kthread_join(writer);
    bool ok = idle_irq.waited.load() >= 20 && idle_irq.unprotected.load() == 0;
    log_printf("ktest rcu-idle-irq: ticks on idle cpu1 reading when a GP started: the GP waited "
               "for %lu, COMPLETED under %lu, %lu undecided: %s", idle_irq.waited.load(),
               idle_irq.unprotected.load(), idle_irq.undecided.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-idle-irq", test_idle_irq, 0,
      "a read section in an interrupt on an idle CPU holds up the GPs that start meanwhile");

// ---- rcu_barrier with slow callbacks on every CPU ----
// Callbacks that each spin 2 ms are queued on every CPU: 20 on each CPU in
// bitmask ARG (which user/userspin keeps busy in user mode: their callbacks
// run at interrupt exits) and on each other CPU (idle: the idle loop runs
// them), one on the caller's. None may become ready before rcu_barrier is
// called: a kernel thread on the first CPU of the mask queues that CPU's
// callbacks inside a read section and stays inside until the caller sleeps
// in rcu_barrier, so every CPU meets the barrier's grace period before it
// starts on its callbacks. When rcu_barrier returns, every callback must
// have FINISHED, not merely started or been counted. Broken the way it
// guards against (rcu_do_callbacks counting a batch as invoked before
// running it, or rcu_barrier looking only at the caller's CPU): callbacks
// still running on other CPUs.
constexpr int SLOW_CBS_PER_CPU = 20;
constexpr uint64_t SLOW_CB_NS = 2000000;
struct slow_cb {
    rcu_head rcu;
    int cpu;
    uint64_t completed_at_call;
    std::atomic<int> state{0};                   // 0 queued, 1 running, 2 finished
};
std::atomic<uint64_t> slow_wrong_cpu{0}, slow_early{0};

void slow_cb_fn(rcu_head* h) {
    slow_cb* c = container_of(h, slow_cb, rcu);
    c->state.store(1);
    if (this_cpu_index() != c->cpu) slow_wrong_cpu.fetch_add(1);
    if (rcu_completed_gp() < c->completed_at_call + 1) slow_early.fetch_add(1);
    delay_ns(SLOW_CB_NS);
    c->state.store(2);
}

// queue_slow(cbs, n): queue n slow callbacks on this CPU.
void queue_slow(slow_cb* cbs, int n) {
    preempt_guard g;
    for (int k = 0; k < n; ++k) {
        cbs[k].cpu = this_cpu()->index;
        cbs[k].completed_at_call = rcu_completed_gp();
        call_rcu(&cbs[k].rcu, slow_cb_fn);
    }
}

struct slow_ctl {
    slow_cb* cbs;                                // ncpu * SLOW_CBS_PER_CPU
    uint64_t give_up_ns;
    proc* caller;
    std::atomic<int> holding{0}, queued{0};
    std::atomic<bool> barrier_called{false}, gave_up{false};
};

void slow_holder(void* arg) {
    auto* q = static_cast<slow_ctl*>(arg);
    {
        rcu_read_guard g;
        queue_slow(q->cbs + current()->pinned * SLOW_CBS_PER_CPU, SLOW_CBS_PER_CPU);
        q->holding.store(1);
        bool ok = wait_for([&] {
            return q->barrier_called.load() && q->caller->state.load() == TASK_SLEEPING;
        }, q->give_up_ns);
        if (!ok) q->gave_up.store(true);
    }
    proc_exit(0);
}

void slow_queuer(void* arg) {
    auto* q = static_cast<slow_ctl*>(arg);
    queue_slow(q->cbs + current()->pinned * SLOW_CBS_PER_CPU, SLOW_CBS_PER_CPU);
    q->queued.fetch_add(1);
    proc_exit(0);
}

// cpu_doing(i): what CPU i runs now, for the report.
const char* cpu_doing(int i) {
    proc* p = __atomic_load_n(&cpus[i].current, __ATOMIC_RELAXED);
    return !p || p->is_idle ? "idle" : p->is_kthread ? "in a kernel thread" : "busy in user mode";
}

long test_barrier_slow(long user_mask) {
    int me = this_cpu_index();
    if (ncpu < 2 || current()->pinned != me || (user_mask & (1L << me))) {
        log_printf("ktest rcu-barrier-slow: needs 2 CPUs and a caller pinned to a CPU outside "
                   "mask %#lx", user_mask);
        return -EINVAL;
    }
    int holder_cpu = (me + 1) % ncpu;
    for (int i = ncpu - 1; i >= 0; --i) if (user_mask & (1L << i)) holder_cpu = i;
    // The CPUs in the mask must be running user tasks, the others idle.
    auto settled = [&] {
        for (int i = 0; i < ncpu; ++i) {
            const char* want = user_mask & (1L << i) ? "busy in user mode" : "idle";
            if (i != me && strcmp(cpu_doing(i), want) != 0) return false;
        }
        return true;
    };
    uint64_t give_up = clock_ns() + GIVE_UP_NS;
    while (!settled() && clock_ns() < give_up) msleep(1);
    slow_ctl q;
    q.cbs = new slow_cb[ncpu * SLOW_CBS_PER_CPU];
    q.give_up_ns = clock_ns() + GIVE_UP_NS;
    q.caller = current();
    slow_wrong_cpu = slow_early = 0;
    proc* threads[MAXCPU] = {};
    threads[holder_cpu] = kthread_spawn_on(holder_cpu, "slow-cb-holder", slow_holder, &q);
    while (!q.holding.load()) msleep(1);
    int others = 0;
    for (int i = 0; i < ncpu; ++i) {
        if (i == me || i == holder_cpu) continue;
        threads[i] = kthread_spawn_on(i, "slow-cb-queuer", slow_queuer, &q);
        ++others;
    }
    queue_slow(q.cbs + me * SLOW_CBS_PER_CPU, 1);
    while (q.queued.load() < others) msleep(1);
    q.barrier_called.store(true);
    rcu_barrier();                               // the holder leaves once this sleeps
    int finished[MAXCPU] = {}, running[MAXCPU] = {}, queued[MAXCPU];
    for (int i = 0; i < ncpu; ++i) {
        queued[i] = i == me ? 1 : SLOW_CBS_PER_CPU;
        for (int k = 0; k < queued[i]; ++k) {
            int st = q.cbs[i * SLOW_CBS_PER_CPU + k].state.load();
            finished[i] += st == 2;
            running[i] += st == 1;
        }
    }
    bool ok = slow_wrong_cpu.load() == 0 && slow_early.load() == 0 && !q.gave_up.load();
    for (int i = 0; i < ncpu; ++i) {
        ok &= finished[i] == queued[i];
        log_printf("ktest rcu-barrier-slow: cpu%d (%s): %d of %d slow callbacks had finished when "
                   "rcu_barrier returned, %d still running", i,
                   i == me ? "the caller's" : cpu_doing(i), finished[i], queued[i], running[i]);
    }
    for (proc* p : threads) if (p) kthread_join(p);
    rcu_barrier();                               // (busted: let any stragglers finish)
    for (bool all = false; !all; msleep(1)) {
        all = true;
        for (int i = 0; i < ncpu; ++i) {
            for (int k = 0; k < queued[i]; ++k) {
                all &= q.cbs[i * SLOW_CBS_PER_CPU + k].state.load() == 2;
            }
        }
    }
    delete[] q.cbs;
    log_printf("ktest rcu-barrier-slow: %lu callbacks on another CPU than their call_rcu, %lu "
               "before their grace period%s: %s", slow_wrong_cpu.load(), slow_early.load(),
               q.gave_up.load() ? ", the barrier never slept" : "", ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rcu-barrier-slow", test_barrier_slow, 0,
      "rcu_barrier with 2-ms callbacks on every CPU (ARG: bitmask of CPUs busy in user mode)");
}
