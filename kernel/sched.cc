// kernel/sched.cc: run queues, cpu::schedule, sleeping and waking.
//
// Each CPU has a FIFO run queue of tasks waiting for it, guarded by its
// runq_lock. cpu::schedule() is the one place a CPU changes tasks: it puts
// the current task back on a run queue if it can still run, takes the next
// one (or the CPU's idle task), and switches kernel stacks. Every pass
// counts as an RCU quiescent state.
//
// A task's `on_cpu` flag is true from the moment a CPU picks it until the
// switch away from it has completed (schedule_tail on the next task). A CPU
// that picks a task still on_cpu elsewhere waits for the flag to clear, so
// two CPUs never run on one kernel stack.
//
// THE LOCK ORDER is LOCK_ORDER, right below: a CPU that holds a lock may
// take only locks further down the list. A spinlock's name is its class
// (every CPU's run-queue lock is one class, "runq_lock"), and the list
// ranks the classes. Two locks of one class are never held at once, except
// through try_lock (steal_work try_locks a victim's run queue holding none).
// Sleeping (wait_until, msleep, synchronize_rcu) is allowed under none of
// them. Debug builds check every nested acquisition against the list
// (kernel/lockdep.cc): one that contradicts it panics, naming both locks
// and where each was taken. So a new lock gets a name and a place in the
// list before it is nested with any other.
#include "proc.hh"
#include "vm.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "trace.hh"
#include "lockdep.hh"

const lock_order_entry LOCK_ORDER[] = {
    {"ls.writers", "a largestruct scheme's `writers` (kernel/ls/), or ls_spinlock.cc's one lock"},
    {"ls.inner", "a scheme's own inner lock: ls_refcount.cc `lock`, ls_hazptr.cc `retire_lock`"},
    {"proc_tree_lock", "the process tree (proc.cc)"},
    {"rcu_state.lock", "grace periods start and end under it (rcu.cc); the end wakes gp_wq"},
    {"wait_queue.lock", "a wait queue's waiters (waitqueue.hh): wake_all wakes tasks under it"},
    {"runq_lock", "a CPU's run queue and sleepers (here): wake_proc enqueues under it"},
    {"rculist.writers", "the writers of an RCU list or hash table (rculist.hh; the pid table's in "
                        "proc.cc): held only to link or unlink, takes no other"},
    {"all_procs_lock", "the list of every process, for ps (proc.cc)"},
    {"kmalloc.class", "a kmalloc size class (kmalloc.cc): a new slab takes a page under it"},
    {"pmem.lock", "the page allocator (pmem.cc)"},
    {"console_lock", "the console (console.cc): printing is allowed under any lock"},
};
const size_t LOCK_ORDER_LENGTH = sizeof(LOCK_ORDER) / sizeof(LOCK_ORDER[0]);

extern "C" proc* switch_stacks(proc* prev, uintptr_t* save_rsp, uintptr_t new_rsp);
extern "C" void task_first_entry();

constexpr unsigned TIME_SLICE_TICKS = 4;

namespace {
// Per-CPU list of tasks in msleep (guarded by the CPU's runq_lock).
list_head sleepers[MAXCPU];

// enqueue_locked(c, p): put p at the tail of c's run queue.
void enqueue_locked(cpu* c, proc* p) {
    assert_held(c->runq_lock);
    assert(!p->on_runq && !p->is_idle);
    p->on_runq = true;
    c->runq.push_back(&p->runq_link);
    ++c->nrunnable;
}

// enqueue(p): add p to its home CPU's run queue, and prod that CPU if it
// is not this one.
void enqueue(proc* p) {
    while (true) {
        int target = p->home_cpu;
        cpu* c = &cpus[target];
        spinlock_guard g(c->runq_lock);
        if (p->home_cpu != target) continue;   // migrated meanwhile
        if (!p->on_runq) enqueue_locked(c, p);
        break;
    }
    preempt_guard pg;                 // "this CPU" stays this CPU until the prod is sent
    cpu* c = &cpus[p->home_cpu];
    if (c != this_cpu()) {
        lapic_send_ipi(c->index, INT_IPI_RESCHED);
    } else {
        set_need_resched();
    }
}

// steal_work(me): an idle CPU takes one unpinned task from the busiest
// other CPU's queue.
proc* steal_work(cpu* me) {
    cpu* victim = nullptr;
    unsigned most = 0;
    for (int i = 0; i < ncpu; ++i) {
        if (&cpus[i] != me && cpus[i].nrunnable > most) {
            most = cpus[i].nrunnable;
            victim = &cpus[i];
        }
    }
    if (!victim || !victim->runq_lock.try_lock()) return nullptr;
    proc* found = nullptr;
    for (list_links* l = victim->runq.front(); l && l != victim->runq.end(); l = l->next) {
        proc* p = container_of(l, proc, runq_link);
        if (p->pinned < 0) {
            list_head::erase(l);
            p->on_runq = false;
            --victim->nrunnable;
            p->home_cpu = me->index;
            found = p;
            break;
        }
    }
    victim->runq_lock.unlock();
    return found;
}
}

void sched_init_cpu(cpu* c) {
    proc* idle = new proc;
    assert(idle);
    snprintf(idle->name, sizeof(idle->name), "idle%d", c->index);
    idle->is_idle = idle->is_kthread = true;
    idle->home_cpu = idle->pinned = c->index;
    idle->pagetable = kernel_pagetable;
    idle->on_cpu = true;
    c->idle_task = idle;
    c->current = idle;
}

void cpu::schedule(bool preempted) {
    assert(!interrupts_enabled());
    proc* prev = current;
    if (preempt_count != 0) {
        panic("cpu::schedule() called with preemption count %u (inside an RCU read "
              "section or holding a spinlock?) by %s", preempt_count, prev->name);
    }
    ++schedule_count;
    need_resched = 0;
    // BEGIN PSET 2 SOLUTION: a CPU that switches tasks is in a quiescent state
    rcu_note_qs_from(qs_from::schedule);
    // END PSET 2 SOLUTION

    // A task that marked itself BLOCKED but was preempted before it called
    // schedule_blocked() must stay runnable: it has not checked its wait
    // condition yet, and the wakeup it waits for may already have happened.
    int state = prev->state.load(std::memory_order_relaxed);
    bool requeue = state == TASK_RUNNABLE || (preempted && state == TASK_BLOCKED);
    if (!preempted && state == TASK_BLOCKED) {
        // Commit to sleeping: BLOCKED -> SLEEPING. If a wake_proc got in
        // first, the task is RUNNABLE again and stays on a run queue.
        requeue = !prev->state.compare_exchange_strong(state, TASK_SLEEPING);
    }
    // A task pinned to another CPU (sys_setcpu) moves there, but only once
    // this CPU has switched away from it (schedule_tail). Queueing it there
    // first made two CPUs that swapped tasks deadlock: each picked the
    // other's task, still on_cpu, and spun with interrupts off waiting for
    // a switch the other could never finish.
    bool migrate = false;
    if (requeue && !prev->is_idle) {
        prev->slice_ticks = 0;
        if (prev->home_cpu == index) {
            spinlock_guard g(runq_lock);
            if (!prev->on_runq) enqueue_locked(this, prev);
        } else {
            migrate = true;
        }
    }
    proc* next = nullptr;
    {
        spinlock_guard g(runq_lock);
        if (list_links* l = runq.pop_front()) {
            next = container_of(l, proc, runq_link);
            next->on_runq = false;
            --nrunnable;
        }
    }
    if (!next) next = idle_task;
    if (next == prev) return;            // (never a migrating task: it is on no queue here)

    while (next->on_cpu.load(std::memory_order_acquire)) cpu_relax();
    next->on_cpu.store(true, std::memory_order_relaxed);
    next->last_cpu.store(index, std::memory_order_relaxed);
    current = next;
    set_kernel_stack(this, next->kstack ? next->kstack_top() : fault_stack_top);
    uint64_t* pt = next->is_kthread ? kernel_pagetable : next->pagetable;
    if (rdcr3() != kva2pa(pt)) wrcr3(kva2pa(pt));
    assert(!migrating);
    if (migrate) migrating = prev;
    TRACE(sched_switch, next->pid, trace_pack(next->name), uint32_t(prev->pid));
    proc* from = switch_stacks(prev, &prev->saved_rsp, next->saved_rsp);
    schedule_tail(from);
}

// schedule_tail(prev): the first thing a task does after a switch to it:
// release the task it replaced, and queue it on its new CPU if it is
// migrating (now that no CPU can find it still on_cpu here).
extern "C" void schedule_tail(proc* prev) {
    prev->on_cpu.store(false, std::memory_order_release);
    cpu* c = this_cpu();
    if (c->migrating == prev) {
        c->migrating = nullptr;
        enqueue(prev);
    }
}

// preempt_schedule(): a reschedule held back by a raised preemption count
// runs here once the count returns to zero.
void preempt_schedule() {
    if (!interrupts_enabled()) return;   // the next interrupt return does it
    cli();
    if (preempt_count() == 0 && this_cpu()->need_resched) this_cpu()->schedule(true);
    sti();
}

void yield() {
    might_sleep("yield", __builtin_return_address(0));
    cli();
    this_cpu()->schedule();
    sti();
}

void schedule_blocked() {
    yield();   // schedule() sees BLOCKED and commits the task to SLEEPING
}

// wake_proc(p): make a BLOCKED or SLEEPING task runnable. Only a SLEEPING
// task (switched away, on no run queue) is enqueued here. A BLOCKED one is
// still running, or was preempted and sits on a run queue: marking it
// RUNNABLE is enough, its own cpu::schedule() then keeps it runnable.
// (Enqueueing a BLOCKED task that was still running would leave a stale
// run-queue entry behind; if the task then exited and was reaped, a CPU
// would later switch to its freed kernel stack: forktree at NCPU=4 crashed
// with rip 0x6b6b6b6b6b6b6b6b that way.)
void wake_proc(proc* p) {
    int state = p->state.load();
    while (state == TASK_BLOCKED || state == TASK_SLEEPING) {
        int was = state;
        if (p->state.compare_exchange_weak(state, TASK_RUNNABLE)) {
            if (was == TASK_SLEEPING) enqueue(p);
            return;
        }
    }
}

const char* task_label(const proc* p, char* buf, size_t n) {
    if (!p) snprintf(buf, n, "nothing");
    else if (p->is_idle) snprintf(buf, n, "%s", p->name);
    else snprintf(buf, n, "pid %d (%s)", p->pid, p->name);
    return buf;
}

int pick_least_loaded_cpu() {
    int best = 0;
    unsigned best_load = ~0u;
    for (int i = 0; i < ncpu; ++i) {
        unsigned load = cpus[i].nrunnable + (cpus[i].current != cpus[i].idle_task);
        if (load < best_load) {
            best_load = load;
            best = i;
        }
    }
    return best;
}

void enqueue_new(proc* p) {
    if (p->pinned < 0) p->home_cpu = pick_least_loaded_cpu();
    p->state.store(TASK_RUNNABLE);
    enqueue(p);
}

// msleep(ms): sleep for at least ms milliseconds. The task waits on its
// CPU's sleeper list; that CPU's timer tick wakes it.
void msleep(uint64_t ms) {
    might_sleep("msleep", __builtin_return_address(0));
    proc* p = current();
    p->wake_at_ns = clock_ns() + ms * 1000000;
    while (clock_ns() < p->wake_at_ns) {
        {
            irq_guard ig;
            cpu* c = this_cpu();
            spinlock_guard g(c->runq_lock);
            sleepers[c->index].push_back(&p->sleep_link);
            p->state.store(TASK_BLOCKED);
        }
        schedule_blocked();
    }
}

// sched_tick(): the timer's work for the scheduler:
// wake sleepers whose time has come and end time slices.
void sched_tick() {
    cpu* c = this_cpu();
    uint64_t now = clock_ns();
    proc* woken[16];
    int nwoken = 0;
    {
        spinlock_guard g(c->runq_lock);
        list_links* l = sleepers[c->index].front();
        while (l && l != sleepers[c->index].end() && nwoken < 16) {
            list_links* next = l->next;
            proc* p = container_of(l, proc, sleep_link);
            if (p->wake_at_ns <= now) {
                list_head::erase(l);
                woken[nwoken++] = p;
            }
            l = next;
        }
    }
    for (int i = 0; i < nwoken; ++i) wake_proc(woken[i]);
    proc* p = c->current;
    if (!p->is_idle && ++p->slice_ticks >= TIME_SLICE_TICKS && c->nrunnable > 0) {
        c->need_resched = 1;
    }
}

// idle_loop(): what a CPU runs when no task wants it. It runs RCU
// callbacks, takes work from busy CPUs, and otherwise halts until an
// interrupt. While halted it is in an RCU "extended quiescent state".
void idle_loop() {
    cpu* c = this_cpu();
    while (true) {
        cli();
        if (c->nrunnable == 0 && ncpu > 1) {
            if (proc* p = steal_work(c)) {
                spinlock_guard g(c->runq_lock);
                enqueue_locked(c, p);
            }
        }
        if (c->nrunnable > 0 || c->need_resched) {
            c->schedule();
            sti();
            continue;
        }
        rcu_note_qs_from(qs_from::idle);
        if (rcu_cpu_has_work()) {
            sti();
            rcu_do_callbacks();
            continue;
        }
        c->in_idle = true;
        rcu_idle_enter();
        asm volatile("sti; hlt" ::: "memory");
        cli();
        rcu_idle_exit();
        c->in_idle = false;
        sti();
    }
}
