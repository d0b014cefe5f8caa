// kernel/ktest/ktest_boot.cc: kernel self-tests for the boot, memory and
// scheduler layers, run by user programs through sys_ktest(name, arg) (the
// runner boots `ktest NAME ARG`). Each returns 0 on success or a negative
// number, and logs what it checked. RCU's self-tests are in ktest_rcu.cc.
#include "ktest/ktest.hh"
#include "proc.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "console.hh"

namespace {
volatile int ktest_panic_value = 41;

// ktest_panic: a deliberately failing assertion (the runner expects PANIC
// with a backtrace naming this function).
[[gnu::noinline]] long ktest_panic() {
    assert(ktest_panic_value == 42);
    return 0;
}
KTEST("panic", [](long) { return ktest_panic(); }, 0,
      "a failing assertion: must PANIC with a backtrace naming ktest_panic");

// ktest_panic_console: CPU 1 turns interrupts off (so the panic's stop IPI
// cannot reach it) and, once the panic on CPU 0 owns the console, logs a
// line. The line must not appear: the panic's lines stay whole. Broken the
// way it guards against (such a CPU writes without the console's lock once
// the panic has taken it, as console_write did): "a stray line" shows up
// in or after the panic's output, every run.
std::atomic<bool> stray_ready{false};
void stray_writer(void*) {
    cli();
    stray_ready.store(true);
    while (!console_panicking()) cpu_relax();
    log_printf("ktest panic-console: a stray line from a CPU the panic did not stop");
    for (;;) asm volatile("hlt");
}
void panicker(void*) {
    while (!stray_ready.load()) cpu_relax();
    panic("ktest panic-console: the panic's own line");
}
long ktest_panic_console() {
    if (ncpu < 2) return -EINVAL;
    kthread_spawn_on(1, "stray-writer", stray_writer, nullptr);
    kthread_spawn_on(0, "panicker", panicker, nullptr);
    for (;;) msleep(1000);    // the panic ends the run
}
KTEST("panic-console", [](long) { return ktest_panic_console(); }, 0,
      "(2+ CPUs) a CPU the panic could not stop writes nothing over the panic's lines");

// smp_call_all(fn, arg): run fn(arg) on every other CPU by IPI and wait.
spinlock ipi_lock{"ktest.ipi_lock"};
std::atomic<int> ipi_hits[MAXCPU];
void count_hit(void*) { ipi_hits[this_cpu()->index].fetch_add(1); }

long ktest_ipi() {
    ipi_lock.lock();
    int me = this_cpu()->index;
    for (int i = 0; i < ncpu; ++i) ipi_hits[i] = 0;
    for (int i = 0; i < ncpu; ++i) {
        if (i == me) continue;
        cpus[i].ipi_fn = count_hit;
        cpus[i].ipi_arg = nullptr;
        lapic_send_ipi(i, INT_IPI_CALL);
    }
    uint64_t deadline = clock_ns() + 2000000000UL;
    long bad = 0;
    for (int i = 0; i < ncpu; ++i) {
        if (i == me) continue;
        while (ipi_hits[i].load() == 0 && clock_ns() < deadline) cpu_relax();
        bool ok = ipi_hits[i].load() == 1;
        log_printf("ktest ipi: cpu%d -> cpu%d %s", me, i, ok ? "delivered" : "LOST");
        bad += !ok;
    }
    ipi_lock.unlock();
    return bad ? -1 : 0;
}
KTEST("ipi", [](long) { return ktest_ipi(); }, 0, "an IPI from this CPU reaches every other CPU once");

// ktest_smp_parked(): every CPU the boot started but did not count (one
// that did not come up in time; boot option smp_late_ap=N makes the boot
// give up on CPU N at once) must stay parked: no timer ticks, no tasks,
// while this CPU takes 50 ticks. Shown to fail with smp.cc not parking
// such a CPU: it came up anyway and ran its idle loop uncounted, taking
// ticks and stealing tasks that RCU never waited for.
long ktest_smp_parked(long) {
    int started = 0;
    for (int i = ncpu; i < MAXCPU; ++i) started += cpus[i].self != nullptr;
    uint64_t t0 = cpus[0].ticks;
    while (cpus[0].ticks < t0 + 50) msleep(1);
    long bad = 0;
    for (int i = ncpu; i < MAXCPU; ++i) {
        if (!cpus[i].self) continue;
        bool quiet = cpus[i].ticks == 0 && cpus[i].schedule_count == 0 && !cpus[i].online;
        log_printf("ktest smp-parked: cpu%d, started but not counted: %lu ticks, %lu schedules: %s",
                   i, cpus[i].ticks, cpus[i].schedule_count, quiet ? "ok" : "FAILED");
        bad += !quiet;
    }
    log_printf("ktest smp-parked: %d CPUs counted, %d started but not counted", ncpu, started);
    return bad ? -1 : 0;
}
KTEST("smp-parked", ktest_smp_parked, 0,
      "CPUs that came up after the boot gave up on them stay parked (boot option smp_late_ap=N)");

// ktest_alloc(iterations): random kmalloc/kfree and page allocations on
// this CPU, each block filled with a pattern that is checked before free.
long ktest_alloc(long iterations) {
    constexpr int SLOTS = 64;
    void* slot[SLOTS] = {};
    size_t size[SLOTS] = {};
    uint64_t x = 0x9e3779b97f4a7c15UL * (this_cpu_index() + 1);
    long errors = 0;
    for (long it = 0; it < iterations; ++it) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int s = x % SLOTS;
        if (slot[s]) {
            uint8_t pat = uint8_t(s * 7 + size[s]);
            for (size_t i = 0; i < size[s]; i += 61) {
                if (static_cast<uint8_t*>(slot[s])[i] != pat) ++errors;
            }
            kfree(slot[s]);
            slot[s] = nullptr;
        } else {
            size[s] = 1 + (x >> 20) % ((x & 8) ? 20000 : 600);
            slot[s] = kmalloc(size[s]);
            if (!slot[s]) return -ENOMEM;
            memset(slot[s], uint8_t(s * 7 + size[s]), size[s]);
        }
    }
    for (int s = 0; s < SLOTS; ++s) kfree(slot[s]);
    return errors ? -1 : 0;
}
KTEST("alloc", ktest_alloc, 20000, "ARG random kmalloc/kfree and page allocations, contents checked");

// ktest_timer(ms): ticks per second on every CPU over `ms` of real time,
// against the configured rate. Passes within [0.5, 1.25] x hz: QEMU on a
// loaded host drops ticks, never adds them.
long ktest_timer(long ms) {
    uint64_t t0[MAXCPU];
    for (int i = 0; i < ncpu; ++i) t0[i] = __atomic_load_n(&cpus[i].ticks, __ATOMIC_RELAXED);
    uint64_t c0 = clock_ns();
    msleep(ms);
    uint64_t dt = clock_ns() - c0;
    long bad = 0;
    for (int i = 0; i < ncpu; ++i) {
        uint64_t n = __atomic_load_n(&cpus[i].ticks, __ATOMIC_RELAXED) - t0[i];
        uint64_t rate = n * 1000000000UL / dt;
        bool ok = rate * 2 >= kopts.hz && rate * 4 <= kopts.hz * 5;
        log_printf("ktest timer: cpu%d %lu ticks in %lu ms = %lu Hz (configured %u) %s",
                   i, n, dt / 1000000, rate, kopts.hz, ok ? "ok" : "OUT OF RANGE");
        bad += !ok;
    }
    return bad ? -1 : 0;
}
KTEST("timer", ktest_timer, 1000, "over ARG ms, every CPU ticks at 0.5 to 1.25 times the hz= rate");

// ktest_spin(ms, preemptible): busy-wait in the kernel. Returns how many
// times this CPU passed through cpu::schedule meanwhile. With preemption
// disabled that must be 0, and a reschedule the timer requested must run
// the moment the count drops back to zero.
long ktest_spin(long ms, bool preemptible) {
    cpu* c;
    uint64_t before, during, after_enable;
    if (!preemptible) preempt_disable();
    {
        irq_guard g;
        c = this_cpu();
        before = c->schedule_count;
    }
    uint64_t end = clock_ns() + ms * 1000000;
    while (clock_ns() < end) cpu_relax();
    if (preemptible) {
        irq_guard g;
        return long(this_cpu()->schedule_count - before);
    }
    during = c->schedule_count - before;
    bool wanted = c->need_resched;
    preempt_enable();
    after_enable = c->schedule_count - before;     // still c: we were not preemptible
    log_printf("ktest spin: preemption off for %ld ms: %lu schedules during, resched %s, %lu after enable",
               ms, during, wanted ? "wanted" : "not wanted", after_enable);
    if (during != 0) return -1;
    if (wanted && after_enable == 0) return -2;
    return wanted ? 1 : 0;
}
KTEST("spin", [](long ms) { return ktest_spin(ms, true); }, 0,
      "busy-wait ARG ms in the kernel, preemptible: returns the schedules meanwhile");
KTEST("spin-nopreempt", [](long ms) { return ktest_spin(ms, false); }, 0,
      "busy-wait ARG ms with preemption off: no schedule until it is back on");
}
