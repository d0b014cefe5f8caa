// kernel/ktest/ktest_trace.cc: self-tests that make traces worth reading
// (kernel/trace.hh; tests/tests_trace.py checks the traces they leave).
//
//   trace-gp MS      a reader on CPU 1 enters a read section; on CPU 0 a
//                    writer queues a call_rcu (its grace period starts and
//                    waits for the reader), then calls synchronize_rcu (it
//                    needs the next grace period). Once that is requested
//                    the reader stays MS ms more in its section: both must
//                    wait for it. The timeline of
//                    `make trace-ktest ARGS="trace-gp 30"`, in that order
//                    however late the host runs either CPU.
//   trace-flood N    N marker events on this CPU with interrupts off,
//                    many more than a small buffer holds (boot with
//                    trace=... trace_buf=64): the dump must say exactly
//                    how many were lost.
//   trace-live N     N marks on CPU 1 while CPU 0 dumps again and again:
//                    no dump may print an event its CPU overwrote while it
//                    was being copied, and each dump must follow on from
//                    the one before.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"
#include "trace.hh"

namespace {
// ---- trace-gp ----
struct gp_scene {
    uint64_t hold_ns = 0;
    std::atomic<bool> inside{false};
    std::atomic<bool> writer_returned{false};
    std::atomic<uint64_t> left_at{0};       // when the reader left its section
    std::atomic<uint64_t> callback_at{0};   // when the call_rcu callback ran
    uint64_t sync_returned_at = 0;
    rcu_head head;
};

void scene_reader(void* arg) {
    auto* s = static_cast<gp_scene*>(arg);
    rcu_read_lock();
    TRACE(read_begin, trace_pack("reader"), 1, uint32_t(current()->pid));
    s->inside.store(true);
    // Until synchronize_rcu has asked for the grace period after the one
    // call_rcu started (or has returned: with grace periods skipped).
    while (!rcu_later_gp_requested() && !s->writer_returned.load()) cpu_relax();
    delay_ns(s->hold_ns);
    s->left_at.store(clock_ns());
    TRACE(read_end, trace_pack("reader"), 1, uint32_t(current()->pid));
    rcu_read_unlock();
    proc_exit(0);
}

gp_scene* scene_of(rcu_head* h) { return container_of(h, gp_scene, head); }

void scene_writer(void* arg) {
    auto* s = static_cast<gp_scene*>(arg);
    while (!s->inside.load()) msleep(1);
    call_rcu(&s->head, [](rcu_head* h) { scene_of(h)->callback_at.store(clock_ns()); });
    synchronize_rcu();
    s->sync_returned_at = clock_ns();
    s->writer_returned.store(true);
    rcu_barrier();                       // the callback has run
    proc_exit(0);
}

long test_trace_gp(long hold_ms) {
    if (ncpu < 2) {
        log_printf("ktest trace-gp: needs 2 CPUs");
        return -EINVAL;
    }
    gp_scene s;
    s.hold_ns = uint64_t(hold_ms) * 1000000;
    proc* reader = kthread_spawn_on(1, "reader", scene_reader, &s);
    proc* writer = kthread_spawn_on(0, "writer", scene_writer, &s);
    kthread_join(writer);
    kthread_join(reader);
    uint64_t left = s.left_at.load(), cb = s.callback_at.load();
    bool ok = left && cb > left && s.sync_returned_at > left;
    log_printf("ktest trace-gp: reader held its section %ld ms; call_rcu's callback ran %s it "
               "left, synchronize_rcu returned %s: %s", hold_ms, cb > left ? "after" : "BEFORE",
               s.sync_returned_at > left ? "after" : "BEFORE", ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("trace-gp", test_trace_gp, 30,
      "a reader on CPU 1 holds up call_rcu and synchronize_rcu on CPU 0 (a trace to look at)");

// ---- trace-flood ----
long test_trace_flood(long n) {
    if (!trace_on(trace_kind::mark)) {
        log_printf("ktest trace-flood: tracing is off (boot with trace=rcu trace_buf=64)");
        return -EINVAL;
    }
    uint64_t before, after;
    int cpu;
    {
        irq_guard g;                     // nothing else records here meanwhile
        cpu = this_cpu()->index;
        before = __atomic_load_n(&trace_cpus[cpu].head, __ATOMIC_RELAXED);
        for (long i = 0; i < n; ++i) TRACE(mark, uint64_t(i), trace_pack("flood"));
        after = __atomic_load_n(&trace_cpus[cpu].head, __ATOMIC_RELAXED);
    }
    bool ok = after - before == uint64_t(n);
    log_printf("ktest trace-flood: %ld marks on cpu%d, sequence numbers %lu..%lu, buffer %lu: %s",
               n, cpu, before, after - 1, trace_capacity, ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("trace-flood", test_trace_flood, 1000,
      "ARG marker events on one CPU with interrupts off (boot with trace=rcu trace_buf=64)");

// ---- trace-live ----
struct live_flood {
    long n;
    std::atomic<bool> done{false};
    uint64_t first = 0;              // the sequence number of mark 0
    int cpu = 0;
};

void live_flooder(void* arg) {
    auto* f = static_cast<live_flood*>(arg);
    {
        irq_guard g;                 // only marks on this CPU meanwhile
        f->cpu = this_cpu()->index;
        f->first = __atomic_load_n(&trace_cpus[f->cpu].head, __ATOMIC_RELAXED);
        for (long i = 0; i < f->n; ++i) TRACE(mark, uint64_t(i), trace_pack("live"));
    }
    f->done.store(true);
    proc_exit(0);
}

// test_trace_live(n): CPU 1 records n marks while this CPU dumps on
// request again and again, so dumps copy a buffer its CPU is overwriting.
long test_trace_live(long n) {
    if (ncpu < 2 || !trace_on(trace_kind::mark)) {
        log_printf("ktest trace-live: needs 2 CPUs and tracing (trace=rcu trace_buf=64)");
        return -EINVAL;
    }
    live_flood f;
    f.n = n;
    proc* p = kthread_spawn_on(1, "flooder", live_flooder, &f);
    int dumps = 0;
    do {
        trace_dump("request", false);
        ++dumps;
    } while (!f.done.load());
    kthread_join(p);
    log_printf("ktest trace-live: %ld marks on cpu%d from sequence number %lu, %d dumps meanwhile",
               n, f.cpu, f.first, dumps);
    return 0;
}
KTEST("trace-live", test_trace_live, 100000,
      "ARG marks on CPU 1 while CPU 0 dumps the trace again and again (trace=rcu trace_buf=64)");
}
