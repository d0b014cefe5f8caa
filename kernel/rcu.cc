// kernel/rcu.cc: read-copy-update.
//
// THE IDEA. Readers take no locks: a read section only disables
// preemption. A writer makes a new copy, publishes it with one pointer
// store, and must not free the old copy while any reader might still hold it. Because a reader cannot be switched
// out mid-section, a CPU whose preemption count is zero holds no old
// pointers: it is in a QUIESCENT STATE. Once EVERY CPU has been in a
// quiescent state after the writer's publish, no reader can still see the
// old copy, so it can be freed. That interval is a GRACE PERIOD (GP).
//
// WHERE QUIESCENT STATES COME FROM (each calls rcu_note_qs):
//  - cpu::schedule(): the one place a CPU switches tasks; it asserts the
//    preemption count is zero.
//  - an interrupt that arrives while the count is zero: the timer tick or
//    an IPI (so a CPU spinning in user mode, count zero, reports at its next
//    tick);
//  - the idle loop, before every halt.
// A CPU halted in the idle loop cannot report anything, and waking it would
// waste power and time. Instead it is in an EXTENDED quiescent state: its
// `dynticks` counter is even while it is idle and odd otherwise (it is also
// made odd while an interrupt handler runs on an idle CPU, so such a handler
// may use read sections). A GP that starts while a CPU's counter is even
// does not wait for that CPU at all. The counter changes with atomic
// read-modify-writes, which are full fences on x86: a reader that starts
// after an idle CPU wakes is ordered after the GP start, so it sees the new
// pointer.
//
// GRACE PERIOD NUMBERS. gp_seq counts like Linux's rcu_seq: it is twice the
// number of completed GPs, plus one while a GP is running. A caller that
// needs "a full GP from now" takes snap() = the gp_seq value at which a GP
// that started after now has ended, and waits for gp_seq >= snap().
//
// STARTING AND ENDING A GP (under rcu_state.lock): when someone needs a GP
// and none is running, gp_seq becomes odd and qs_pending gets one bit per
// online, non-idle CPU.
// BEGIN PSET 2 EXPLANATION
// Each CPU clears its bit at its next quiescent state (one atomic fetch_and,
// only when its bit is set). The CPU that clears the last bit ends the GP:
// gp_seq becomes even, sleepers in synchronize_rcu wake, and if more GPs are
// wanted the next one starts at once.
// STUB: // Each CPU owes the GP one quiescent state, and the report of the last
// STUB: // one ends it (complete_gp_locked): that report is rcu_note_qs, pset 2.
// END PSET 2 EXPLANATION
//
// CALLBACKS.
// BEGIN PSET 2 EXPLANATION
// call_rcu appends (head, fn, snap()) to this CPU's list; since snap() never
// decreases, the list is sorted by the GP it needs.
// STUB: // call_rcu (pset 2) queues a callback on this CPU's list, tagged with
// STUB: // the GP it waits for.
// END PSET 2 EXPLANATION
// Ready callbacks (gp_seq >= their number) are cut off the front and run on
// the same CPU, in order, at a point where its count was zero (interrupt
// exit or the idle loop): never inside a read section.
// BEGIN PSET 2 EXPLANATION
// A later call_rcu from a preemptible writer runs them too, so the writer
// pays for its own reclamation. Past RCU_CB_LIMIT callbacks a caller that
// may sleep waits for an expedited GP and runs its own backlog, so memory
// stays bounded under a flood of writers; when free memory is low (under
// twice the kernel's reserve), already past RCU_CB_LOW_MEMORY_LIMIT callbacks.
// END PSET 2 EXPLANATION
//
// HURRYING. A tick that finds its CPU inside a read section while the GP
// waits for it sets need_resched, so that the CPU schedules (a quiescent
// state) as soon as its read section ends. synchronize_rcu_expedited does
// the same for every CPU at once with IPIs instead of waiting for ticks.
//
// CHECKED. model/rcu.pml models this grace-period machinery, and `make
// model` has the spin model checker try every interleaving of it
// (docs/model.md; pset 1 and 2 handouts leave both out, as they would give
// pset 2 away). Each part of the model names the function here it stands
// for; a change to the algorithm belongs in the model too.
#include "rcu.hh"
#include "cpu.hh"
#include "waitqueue.hh"
#include "sched.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "trace.hh"
#include "lockdep.hh"

bool rcu_busted = false;
bool rcu_stall_check_at_gp_start = false;

// caller_name(ret): the function a return address lies in, for messages.
static const char* caller_name(void* ret) {
    uintptr_t off;
    const char* name = symbol_name(uintptr_t(ret) - 1, &off);
    return name ? name : "?";
}
std::atomic<uint64_t> rcu_stall_reports{0};

// The global state. It has a name outside the anonymous namespace so that
// GDB finds it: `p rcu_state`, and grace-rcu (tools/gdb/grace.py).
struct rcu_global {
    spinlock lock{"rcu_state.lock"};
    std::atomic<uint64_t> gp_seq{0};
    uint64_t gp_seq_needed = 0;            // under lock
    std::atomic<uint64_t> qs_pending{0};   // CPUs that owe the running GP a QS
    std::atomic<uint64_t> gp_start_ns{0};  // stored before gp_seq turns odd
    std::atomic<uint64_t> stall_reported{0};
    wait_queue gp_wq;
};
rcu_global rcu_state;

namespace {

inline uint64_t snap() {
    std::atomic_thread_fence(std::memory_order_seq_cst);   // order the caller's publish first
    return (rcu_state.gp_seq.load(std::memory_order_acquire) + 3) & ~uint64_t(1);
}
inline bool gp_done(uint64_t s) { return rcu_state.gp_seq.load(std::memory_order_acquire) >= s; }

void start_gp_locked(bool caller_quiescent);
void stall_check();

// count_qs(c, seq): CPU c's quiescent state counted for the GP running at
// gp_seq `seq` (statistics, and "last QS" in GDB's grace-cpus).
void count_qs(cpu* c, uint64_t seq) {
    ++c->rcu.qs_reported;
    c->rcu.last_qs_gp = (seq + 1) / 2;
    c->rcu.last_qs_tick = c->ticks;
    TRACE(qs, (seq + 1) / 2, 0, trace_qs_site(c));
}

// complete_gp_locked(caller_quiescent): the last quiescent state of the
// running GP arrived. If more GPs are wanted the next starts at once; a
// caller that is itself in a quiescent state (rcu_note_qs) counts for it
// right away, which saves that CPU a tick.
void complete_gp_locked(bool caller_quiescent) {
    assert_held(rcu_state.lock);
    uint64_t ns = clock_ns() - rcu_state.gp_start_ns.load();
    rcu_cpu& s = this_cpu()->rcu;
    s.longest_gp_ns = max(s.longest_gp_ns, ns);
    ++s.gp_completed;
    TRACE(gp_end, (rcu_state.gp_seq.load() + 1) / 2);
    rcu_state.gp_seq.fetch_add(1);         // even: no GP running
    rcu_state.gp_wq.wake_all();
    if (rcu_state.gp_seq_needed > rcu_state.gp_seq.load()) start_gp_locked(caller_quiescent);
}

void start_gp_locked(bool caller_quiescent) {
    assert_held(rcu_state.lock);
    assert((rcu_state.gp_seq.load() & 1) == 0);
    // The start time first: stall_check reads gp_seq, then the start time.
    rcu_state.gp_start_ns.store(clock_ns(), std::memory_order_relaxed);
    rcu_state.gp_seq.fetch_add(1);         // odd: running (a full fence)
#if GRACE_DEBUG
    if (rcu_stall_check_at_gp_start) stall_check();   // ktest rcu-stall-start
#endif
    ++this_cpu()->rcu.gp_started;
    uint64_t mask = 0;
    for (int i = 0; i < ncpu; ++i) {
        // Idle CPUs (dynticks even) are already quiescent for this GP.
        if (cpus[i].rcu.dynticks.load(std::memory_order_seq_cst) & 1) mask |= uint64_t(1) << i;
    }
    TRACE(gp_start, (rcu_state.gp_seq.load() + 1) / 2, mask);
    if (caller_quiescent && (mask & (uint64_t(1) << this_cpu()->index))) {
        mask &= ~(uint64_t(1) << this_cpu()->index);
        count_qs(this_cpu(), rcu_state.gp_seq.load());
    }
    rcu_state.qs_pending.store(mask, std::memory_order_seq_cst);
    if (mask == 0) complete_gp_locked(caller_quiescent);
}

// request_gp(s): make sure GPs keep starting until gp_seq reaches s.
[[maybe_unused]] void request_gp(uint64_t s) {
    if (gp_done(s)) return;
    spinlock_guard g(rcu_state.lock);
    if (s > rcu_state.gp_seq_needed) TRACE(gp_request, s / 2);
    rcu_state.gp_seq_needed = max(rcu_state.gp_seq_needed, s);
    if (!(rcu_state.gp_seq.load() & 1) && !gp_done(s)) start_gp_locked(false);
}

// stall_check(): once per stalled GP, say which CPUs hold it up. The
// start time is read after gp_seq and belongs to that GP only if gp_seq
// has not moved meanwhile (start_gp_locked stores it before gp_seq turns
// odd). A GP whose mask is still empty is just starting: nothing to report.
void stall_check() {
    uint64_t seq = rcu_state.gp_seq.load(std::memory_order_acquire);
    if (!(seq & 1) || rcu_state.stall_reported.load(std::memory_order_relaxed) == seq) return;
    uint64_t start = rcu_state.gp_start_ns.load(std::memory_order_acquire);
    uint64_t now = clock_ns();
    if (rcu_state.gp_seq.load(std::memory_order_acquire) != seq || now < start) return;
    uint64_t age_ms = (now - start) / 1000000;
    if (age_ms < kopts.rcu_stall_ms) return;
    uint64_t mask = rcu_state.qs_pending.load();
    if (mask == 0) return;
    uint64_t expected = rcu_state.stall_reported.load();
    if (expected == seq || !rcu_state.stall_reported.compare_exchange_strong(expected, seq)) return;
    TRACE(stall, seq / 2 + 1, mask);
    log_printf("rcu: INFO: grace period %lu stalled for %lu ms, waiting on CPUs mask %#lx:",
               seq / 2 + 1, age_ms, mask);
    for (int i = 0; i < ncpu; ++i) {
        if (mask & (uint64_t(1) << i)) {
            char task[48];
            log_printf("rcu:   cpu%d running %s, preemption count %u (read-section depth)", i,
                       task_label(cpus[i].current, task, sizeof(task)), cpus[i].preempt_count % PREEMPT_IRQ);
        }
    }
    rcu_stall_reports.fetch_add(1);   // printed (a test may release the stalled reader now)
}
}

// rcu_note_qs(): this CPU is in a quiescent state (no read section is
// running on it). Clears its bit in qs_pending; the last CPU ends the GP.
void rcu_note_qs() {
    // BEGIN PSET 2 SOLUTION: report this CPU's quiescent state to the running grace period
    irq_guard g;
    cpu* c = this_cpu();
    uint64_t bit = uint64_t(1) << c->index;
    if (!(rcu_state.qs_pending.load(std::memory_order_relaxed) & bit)) return;
    uint64_t seq = rcu_state.gp_seq.load();           // the GP cannot end while our bit is set
    uint64_t old = rcu_state.qs_pending.fetch_and(~bit);   // a full fence: orders our past reads first
    if (!(old & bit)) return;
    count_qs(c, seq);
    if ((old & ~bit) == 0) {
        spinlock_guard lg(rcu_state.lock);
        complete_gp_locked(true);
    }
    // STUB: PSET_TODO(2, "rcu_note_qs");
    // END PSET 2 SOLUTION
}

void rcu_tick(bool quiescent) {
    cpu* c = this_cpu();
    // BEGIN PSET 5 BUG: tick-qs
    if (quiescent) {
        rcu_note_qs_from(qs_from::tick);
    } else if (rcu_state.qs_pending.load(std::memory_order_relaxed) & (uint64_t(1) << c->index)) {
    // STUB: if (!quiescent && (rcu_state.qs_pending.load(std::memory_order_relaxed) & (uint64_t(1) << c->index))) {
    // END PSET 5 BUG
        c->need_resched = 1;          // the outermost rcu_read_unlock will schedule
    }
    stall_check();
}

void rcu_irq_enter() {
    rcu_cpu& r = this_cpu()->rcu;
    if (!(r.dynticks.load(std::memory_order_relaxed) & 1)) {
        r.dynticks.fetch_add(1);      // idle -> watching, a full fence
        r.irq_from_idle = true;
    }
}
void rcu_irq_exit() {
    rcu_cpu& r = this_cpu()->rcu;
    if (r.irq_from_idle) {
        r.irq_from_idle = false;
        r.dynticks.fetch_add(1);      // watching -> idle
    }
}
void rcu_idle_enter() {
    TRACE0(idle_enter);
    assert(this_cpu()->rcu.dynticks.load() & 1);
    this_cpu()->rcu.dynticks.fetch_add(1);
}
void rcu_idle_exit() {
    assert(!(this_cpu()->rcu.dynticks.load() & 1));
    this_cpu()->rcu.dynticks.fetch_add(1);
    TRACE0(idle_exit);
}

// memory_low(): free pages are under twice the kernel's reserve, so what
// the callbacks would free is wanted now (a writer storm under a memory
// hog): RCU_CB_LIMIT bounds the backlog in callbacks, this in pages.
[[maybe_unused]] static bool memory_low() { return pmem_free_pages() < 2 * pmem_reserve_pages(); }

void call_rcu(rcu_head* head, void (*fn)(rcu_head*)) {
    head->fn = fn;
    head->next = nullptr;
    TRACE(call_rcu, uintptr_t(head), snap() / 2);
    if (rcu_busted) {                 // the deliberately broken variant
        TRACE(cb_invoke, uintptr_t(head), 0);
        fn(head);
        return;
    }
    // BEGIN PSET 2 SOLUTION: queue the callback for the end of a grace period from now
    head->gp_needed = snap();
    uint64_t backlog;
    {
        irq_guard g;
        cpu* c = this_cpu();
        rcu_cpu& r = c->rcu;
        head->queued_tick = c->ticks;
        *r.cb_tail = head;
        r.cb_tail = &head->next;
        backlog = ++r.cb_count;
        ++r.cb_queued;
        r.cb_high_water = max(r.cb_high_water, backlog);
    }
    request_gp(head->gp_needed);
    if (preempt_count() == 0 && interrupts_enabled()) {
        // A caller that may be preempted is outside every read section, so
        // it can run this CPU's ready callbacks itself: reclamation is then
        // paid by the writer that causes it, not by whichever task the
        // timer interrupts. Past the limit it also helps the GP along.
        if (backlog > RCU_CB_LIMIT || (backlog > RCU_CB_LOW_MEMORY_LIMIT && memory_low())) {
            synchronize_rcu_expedited();
        }
        bool ready;
        {
            irq_guard g;              // an interrupt may run (and free) the list's head
            ready = rcu_cpu_has_work();
        }
        if (ready) rcu_do_callbacks();
    }
    // STUB: PSET_TODO(2, "call_rcu");
    // STUB: fn(head);           // frees at once: readers may still hold it
    // END PSET 2 SOLUTION
}

bool rcu_cpu_has_work() {
    rcu_head* h = this_cpu()->rcu.cb_head;
    // BEGIN PSET 5 BUG: cb-ready
    return h && gp_done(h->gp_needed);
    // STUB: return h && rcu_state.gp_seq.load(std::memory_order_acquire) > h->gp_needed;
    // END PSET 5 BUG
}

void rcu_do_callbacks() {
    preempt_disable();                // no migration, no re-entry from interrupts
    while (true) {
        rcu_head* ready = nullptr;
        rcu_head** ready_tail = &ready;
        rcu_cpu& r = this_cpu()->rcu;
        uint64_t n = 0;
        {
            irq_guard g;
            while (r.cb_head && gp_done(r.cb_head->gp_needed) && n < 1000) {
                rcu_head* h = r.cb_head;
                r.cb_head = h->next;
                *ready_tail = h;
                ready_tail = &h->next;
                ++n;
            }
            if (!r.cb_head) r.cb_tail = &r.cb_head;
            *ready_tail = nullptr;
            r.cb_count -= n;
        }
        if (!ready) break;
        TRACE(cb_batch, n);
        while (ready) {
            rcu_head* next = ready->next;
            TRACE(cb_invoke, uintptr_t(ready), ready->gp_needed / 2);
            ready->fn(ready);
            ready = next;
        }
        __atomic_fetch_add(&r.cb_invoked, n, __ATOMIC_RELEASE);
    }
    preempt_enable();
}

void synchronize_rcu() {
    might_sleep("synchronize_rcu", __builtin_return_address(0));
    trace_sync_guard traced(false, [] { return snap() / 2; });
    if (rcu_busted) return;
    // BEGIN PSET 2 SOLUTION: wait for a full grace period from now
    uint64_t s = snap();
    request_gp(s);
    rcu_note_qs_from(qs_from::sync);  // this CPU is quiescent right now
    wait_until(rcu_state.gp_wq, [&] { return gp_done(s); });
    // STUB: PSET_TODO(2, "synchronize_rcu");   // returns at once: no grace period
    // END PSET 2 SOLUTION
}

void synchronize_rcu_expedited() {
    might_sleep("synchronize_rcu_expedited", __builtin_return_address(0));
    trace_sync_guard traced(true, [] { return snap() / 2; });
    if (rcu_busted) return;
    // BEGIN PSET 2 SOLUTION: a grace period, hurried along with IPIs (optional part)
    uint64_t s = snap();
    request_gp(s);
    uint64_t prodded_seq = 0, prodded_at = 0;
    while (!gp_done(s)) {
        rcu_note_qs_from(qs_from::expedited);
        uint64_t seq = rcu_state.gp_seq.load();
        uint64_t now = clock_ns();
        if (seq != prodded_seq || now - prodded_at > 200000) {
            // IPI every CPU the running GP still waits for; the handler
            // reports a QS, or sets need_resched inside a read section.
            uint64_t mask = rcu_state.qs_pending.load();
            irq_guard g;
            int me = this_cpu()->index;
            for (int i = 0; i < ncpu; ++i) {
                if (i != me && (mask & (uint64_t(1) << i))) lapic_send_ipi(i, INT_IPI_RESCHED);
            }
            TRACE(exp_ipi, mask & ~(uint64_t(1) << me));
            prodded_seq = seq;
            prodded_at = now;
        }
        cpu_relax();
    }
    // STUB: synchronize_rcu();    // correct, only slower; make it fast once that works
    // END PSET 2 SOLUTION
}

void rcu_barrier() {
    might_sleep("rcu_barrier", __builtin_return_address(0));
    if (rcu_busted) return;
    uint64_t queued[MAXCPU];
    for (int i = 0; i < ncpu; ++i) queued[i] = __atomic_load_n(&cpus[i].rcu.cb_queued, __ATOMIC_ACQUIRE);
    synchronize_rcu();                // every callback queued before is now ready...
    for (int i = 0; i < ncpu; ++i) {  // ...and runs at that CPU's next tick or idle pass
        while (__atomic_load_n(&cpus[i].rcu.cb_invoked, __ATOMIC_ACQUIRE) < queued[i]) msleep(1);
    }
}

uint64_t rcu_completed_gp() { return rcu_state.gp_seq.load() / 2; }
uint64_t rcu_gp_seq() { return rcu_state.gp_seq.load(); }
bool rcu_gp_waits_for(int cpu) {
    return (rcu_state.gp_seq.load() & 1) && (rcu_state.qs_pending.load() & (uint64_t(1) << cpu));
}

bool rcu_later_gp_requested() {
    uint64_t seq = rcu_state.gp_seq.load();
    return (seq & 1) && __atomic_load_n(&rcu_state.gp_seq_needed, __ATOMIC_RELAXED) > seq + 1;
}

void rcu_print_state() {
    char cbs[8 * MAXCPU] = "";
    size_t n = 0;
    for (int i = 0; i < ncpu && n < sizeof(cbs) - 24; ++i) {
        n += snprintf(cbs + n, sizeof(cbs) - n, "%s%lu", i ? "," : "",
                      __atomic_load_n(&cpus[i].rcu.cb_count, __ATOMIC_RELAXED));
    }
    uint64_t seq = rcu_state.gp_seq.load();
    console_printf("rcu: gp_seq %lu completed %lu running %lu owe %#lx cbs %s\n", seq, seq / 2,
                   seq & 1 ? (seq + 1) / 2 : 0, seq & 1 ? rcu_state.qs_pending.load() : 0, cbs);
}

rcu_stats rcu_get_stats() {
    rcu_stats t{};
    for (int i = 0; i < ncpu; ++i) {
        const rcu_cpu& r = cpus[i].rcu;
        t.gp_started += r.gp_started;
        t.gp_completed += r.gp_completed;
        t.qs_reported += r.qs_reported;
        t.cb_queued += r.cb_queued;
        t.cb_invoked += r.cb_invoked;
        t.cb_high_water = max(t.cb_high_water, r.cb_high_water);
        t.cb_pending += r.cb_count;
        t.longest_gp_ns = max(t.longest_gp_ns, r.longest_gp_ns);
    }
    return t;
}

void rcu_read_unlock_underflow() {
    panic("rcu_read_unlock() without a matching rcu_read_lock() (called from %s)",
          caller_name(__builtin_return_address(0)));
}

void rcu_warn_unprotected_load(const void* where) {
    // The first few, with backtraces: a bug that loads unprotected usually
    // does it on every call, and the console must stay readable.
    static std::atomic<int> warnings{0};
    int n = warnings.fetch_add(1);
    if (n >= 3) return;
    log_printf("rcu: WARNING: rcu_ptr %p loaded outside a read section and without the update lock%s",
               where, n == 2 ? " (further warnings suppressed)" : "");
    print_backtrace(read_rbp());
}
