// kernel/waitqueue.hh: wait queues: a task sleeps on one until a condition
// holds, and whoever changes the condition wakes the queue.
//
// The scheduler implements them (waitqueue.cc, on top of sched.cc); RCU
// and the process code use them, and only this header: neither needs the
// other to wait.
#pragma once
#include "spinlock.hh"
#include "list.hh"
#include "cpu.hh"
#include "sched.hh"
#include "lockdep.hh"

struct proc;

// A wait queue. Its lock comes after rcu_state.lock and proc_tree_lock and
// before any run-queue lock (the lock order: top of kernel/sched.cc).
struct wait_queue {
    spinlock lock{"wait_queue.lock"};
    list_head waiters;
    void wake_all();                 // make every waiter runnable
};
struct waiter {
    proc* p;
    list_links link;
};

// wait_prepare(wq, w): register w on wq and mark its task about to sleep;
// wait_finish(wq, w): take it off again, running.
void wait_prepare(wait_queue& wq, waiter& w);
void wait_finish(wait_queue& wq, waiter& w);

// wait_until(wq, cond): sleep until cond() is true. cond() is checked
// after this task is registered as a waiter, so a wake_all() that follows
// a change to the condition is never lost.
template <typename F>
void wait_until(wait_queue& wq, F cond) {
    might_sleep("wait_until", current_pc());
    waiter w{current(), {}};
    while (true) {
        wait_prepare(wq, w);
        if (cond()) break;
        schedule_blocked();
    }
    wait_finish(wq, w);
}
