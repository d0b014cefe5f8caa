// host/port/port.cc: threads that play CPUs, the ticker, and the
// scheduler's side of wait queues, for the host build. port.hh explains
// the model; stubs.cc has the kernel's other services.
#include "port.hh"
#include "proc.hh"
#include "rcu.hh"
#include "apic.hh"
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sched.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <thread>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

cpu cpus[MAXCPU];
int ncpu = MAXCPU;

namespace {
// The ticker plays the last CPU, which is idle except during its ticks.
constexpr int TICKER_CPU = MAXCPU - 1;

// What the port keeps about each CPU besides the kernel's cpu object.
struct host_slot {
    std::atomic<bool> taken{false};          // a thread has this CPU (attach..detach)
    std::atomic<bool> running{false};        // someone runs on it now: its thread, online, or the ticker
    std::atomic<bool> used{false};           // ever had a thread: the ticker looks only at these
    std::atomic<bool> has_callbacks{false};  // left offline with callbacks queued
};
host_slot slots[MAXCPU];

// This thread as a CPU: which one, whether online, and its task (the
// `proc` that wait queues hold while it sleeps).
struct thread_cpu {
    int index = -1;
    bool online = false;
    proc* task = nullptr;
    ~thread_cpu();
};
thread_local thread_cpu self __attribute__((tls_model("initial-exec")));

bool use_wrgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;

// set_gs_base(c): this thread's %gs now reaches CPU object c (nullptr:
// none, so a stray this_cpu() faults at once).
void set_gs_base(cpu* c) {
    if (use_wrgsbase) {
        asm volatile("wrgsbase %0" ::"r"(c) : "memory");
    } else if (syscall(SYS_arch_prctl, ARCH_SET_GS, c) != 0) {
        panic("host: arch_prctl(ARCH_SET_GS) failed");
    }
}

// Every CPU starts offline: no thread, in RCU's extended quiescent state.
struct cpus_init {
    cpus_init() {
        for (int i = 0; i < MAXCPU; ++i) {
            cpus[i].self = &cpus[i];
            cpus[i].index = i;
            cpus[i].rcu.dynticks.store(0);   // even: idle
        }
    }
} cpus_init_;

// take_cpu(i) / release_cpu(i): begin and end running CPU i. A thread
// coming online waits (briefly) while the ticker runs its CPU.
bool try_take_cpu(int i) {
    bool idle = false;
    return slots[i].running.compare_exchange_strong(idle, true, std::memory_order_acquire);
}
void take_cpu(int i) {
    while (!try_take_cpu(i)) sched_yield();
}
void release_cpu(int i) { slots[i].running.store(false, std::memory_order_release); }

// run_ready_callbacks(c): run CPU c's ready callbacks (c is this CPU, and
// the count is zero: no read section).
void run_ready_callbacks(cpu* c) {
    uint64_t flags = irq_save();           // rcu_cpu_has_work's rule: interrupts off
    bool has_work = rcu_cpu_has_work();
    irq_restore(flags);
    if (has_work) rcu_do_callbacks();
    slots[c->index].has_callbacks.store(__atomic_load_n(&c->rcu.cb_head, __ATOMIC_RELAXED) != nullptr,
                                        std::memory_order_relaxed);
}

// need_online(what): panic, naming `what`, unless this thread is an
// online CPU.
void need_online(const char* what) {
    if (!self.online) {
        panic("%s: this thread is not an online CPU (%s)", what,
              self.index < 0 ? "call host_cpu_attach first" : "it is offline");
    }
}

// ---- the ticker: the timer interrupt of offline CPUs ----
struct ticker {
    std::mutex m;
    std::condition_variable cv;
    bool kicked = false;
    bool stop = false;
    std::once_flag started;
    std::thread thread;
    proc task;
    ~ticker() {
        if (!thread.joinable()) return;
        {
            std::lock_guard<std::mutex> g(m);
            stop = true;
        }
        cv.notify_one();
        thread.join();
    }
};
ticker the_ticker;

// idle_tick(i): on CPU i, whose thread is offline: what an idle CPU does
// on a timer interrupt (kernel/trap.cc), then one pass of the idle loop
// (kernel/sched.cc) with its callbacks. The caller runs CPU i.
void idle_tick(int i) {
    cpu* c = &cpus[i];
    set_gs_base(c);
    bool irqs_were_off = host_irqs_off;
    cli();
    c->preempt_count += PREEMPT_IRQ;       // the timer interrupt
    rcu_irq_enter();
    ++c->ticks;
    rcu_tick(true);
    rcu_irq_exit();
    c->preempt_count -= PREEMPT_IRQ;
    rcu_idle_exit();                       // the idle loop, woken
    rcu_note_qs();
    sti();
    run_ready_callbacks(c);
    cli();
    rcu_idle_enter();
    if (!irqs_were_off) sti();
    set_gs_base(nullptr);
}

// tick_all(): one tick: every CPU the running grace period waits for is
// ticked (offline) or asked to report at its next chance (online), and
// offline CPUs with callbacks run them.
void tick_all() {
    for (int i = 0; i < MAXCPU; ++i) {
        if (!slots[i].used.load(std::memory_order_relaxed)) continue;
        bool owes = rcu_gp_waits_for(i);
        if (!owes && i != TICKER_CPU && !slots[i].has_callbacks.load(std::memory_order_relaxed)) continue;
        if (try_take_cpu(i)) {
            idle_tick(i);
            release_cpu(i);
        } else if (owes) {
            __atomic_store_n(&cpus[i].need_resched, 1, __ATOMIC_RELAXED);
        }
    }
}

// ticker_main(): the ticker thread: tick_all() every 1/kopts.hz s, or at
// once when kicked, until the process ends.
void ticker_main() {
    ticker& t = the_ticker;
    self.index = TICKER_CPU;
    self.task = &t.task;
    snprintf(t.task.name, sizeof(t.task.name), "ticker");
    auto period = std::chrono::microseconds(1000000 / kopts.hz);
    std::unique_lock<std::mutex> g(t.m);
    while (!t.stop) {
        t.cv.wait_for(g, period, [&] { return t.kicked || t.stop; });
        t.kicked = false;
        g.unlock();
        tick_all();
        g.lock();
    }
    self = thread_cpu{};
}

// start_ticker(): at the first attach, after the boot options of the
// environment's GRACE_OPTS ("rcu_stall_ms=60000 ..."), start the ticker.
void start_ticker() {
    std::call_once(the_ticker.started, [] {
        if (const char* opts = getenv("GRACE_OPTS")) host_options(opts);
        slots[TICKER_CPU].taken.store(true);
        slots[TICKER_CPU].used.store(true);
        the_ticker.thread = std::thread(ticker_main);
    });
}

// kick_ticker(): make the ticker tick now (an IPI to an offline CPU).
void kick_ticker() {
    {
        std::lock_guard<std::mutex> g(the_ticker.m);
        the_ticker.kicked = true;
    }
    the_ticker.cv.notify_one();
}
}

// ---- threads as CPUs ----

// A thread that ends while still a CPU would hold up every later grace
// period (its CPU would stay online forever): it is detached, with a warning.
thread_cpu::~thread_cpu() {
    if (this != &self || index < 0) return;
    log_printf("host: thread %d ended still attached as cpu%d: detached now (call host_cpu_detach "
               "or rcu_unregister_thread first)", task ? task->pid : 0, index);
    host_cpu_detach();
}

int host_cpu_attach() {
    if (self.index >= 0) panic("host_cpu_attach: this thread is already cpu%d", self.index);
    start_ticker();
    int i = 0;
    for (bool no = false; i < TICKER_CPU; ++i, no = false) {
        if (slots[i].taken.compare_exchange_strong(no, true)) break;
    }
    if (i == TICKER_CPU) panic("host_cpu_attach: all %d CPUs are taken", TICKER_CPU);
    slots[i].used.store(true);
    self.index = i;
    self.task = new proc;
    self.task->pid = int(gettid());
    snprintf(self.task->name, sizeof(self.task->name), "thread %d", self.task->pid);
    host_cpu_online();
    return i;
}

void host_cpu_detach() {
    if (self.index < 0) panic("host_cpu_detach: this thread is not a CPU");
    if (self.online) host_cpu_offline();
    slots[self.index].taken.store(false, std::memory_order_release);
    delete self.task;
    self = thread_cpu{};
}

bool host_cpu_is_attached() { return self.index >= 0; }
bool host_cpu_is_online() { return self.online; }

void host_cpu_online() {
    if (self.index < 0) panic("host_cpu_online: this thread is not a CPU (host_cpu_attach)");
    if (self.online) panic("host_cpu_online: cpu%d is already online", self.index);
    take_cpu(self.index);
    cpu* c = &cpus[self.index];
    set_gs_base(c);
    c->current = self.task;
    {
        irq_guard g;
        rcu_idle_exit();
    }
    self.online = true;
}

void host_cpu_offline() {
    need_online("host_cpu_offline");
    if (preempt_count() != 0) {
        panic("host_cpu_offline: cpu%d is inside a read section or holds a spinlock (count %u)",
              self.index, preempt_count());
    }
    // The idle loop's pass before it halts.
    cpu* c = &cpus[self.index];
    rcu_note_qs();
    run_ready_callbacks(c);
    {
        irq_guard g;
        rcu_idle_enter();
    }
    c->current = nullptr;
    self.online = false;
    set_gs_base(nullptr);
    release_cpu(self.index);
}

void host_quiescent_state() {
    need_online("host_quiescent_state");
    if (preempt_count() != 0) {
        panic("host_quiescent_state: cpu%d is inside a read section or holds a spinlock (count %u)",
              self.index, preempt_count());
    }
    cpu* c = &cpus[self.index];
    __atomic_store_n(&c->need_resched, 0, __ATOMIC_RELAXED);
    ++c->schedule_count;
    rcu_note_qs();
    run_ready_callbacks(c);
}

void host_options(const char* s) {
    static char line[512];
    snprintf(line, sizeof(line), "host %s", s);
    parse_boot_options(line);
}

// ---- the scheduler's interface (kernel/sched.hh) ----

// preempt_schedule(): the held-back reschedule, when the outermost
// rcu_read_unlock (or spinlock release) finds need_resched set: as in the
// kernel, a pass through the scheduler, so a quiescent state.
void preempt_schedule() {
    if (!interrupts_enabled() || preempt_count() != 0) return;
    irq_guard g;
    cpu* c = this_cpu();
    if (!__atomic_load_n(&c->need_resched, __ATOMIC_RELAXED)) return;
    __atomic_store_n(&c->need_resched, 0, __ATOMIC_RELAXED);
    ++c->schedule_count;
    rcu_note_qs();
}

// wake_proc(p): a task blocked in a wait queue becomes runnable.
void wake_proc(proc* p) {
    int blocked = TASK_BLOCKED;
    if (p->state.compare_exchange_strong(blocked, TASK_RUNNABLE)) p->state.notify_all();
}

// schedule_blocked(): sleep until wake_proc, the CPU offline meanwhile.
void schedule_blocked() {
    need_online("schedule_blocked (a wait queue)");
    proc* p = self.task;
    host_cpu_offline();
    while (p->state.load(std::memory_order_acquire) == TASK_BLOCKED) {
        p->state.wait(TASK_BLOCKED, std::memory_order_acquire);
    }
    host_cpu_online();
}

void msleep(uint64_t ms) {
    bool was_online = self.online;
    if (was_online) host_cpu_offline();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (was_online) host_cpu_online();
}

void yield() {
    if (self.online) host_quiescent_state();
    sched_yield();
}

const char* task_label(const proc* p, char* buf, size_t n) {
    snprintf(buf, n, "%s", p ? p->name : "(offline)");
    return buf;
}

// lapic_send_ipi(i, INT_IPI_RESCHED): what the kernel's handler does, set
// CPU i's need_resched; an offline CPU gets its tick now.
void lapic_send_ipi(int i, int vector) {
    if (vector != INT_IPI_RESCHED) panic("host: lapic_send_ipi: no IPI %d on the host", vector);
    __atomic_store_n(&cpus[i].need_resched, 1, __ATOMIC_RELAXED);
    if (!slots[i].running.load(std::memory_order_relaxed)) kick_ticker();
}
