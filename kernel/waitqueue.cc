// kernel/waitqueue.cc: wait queues (waitqueue.hh), on top of the
// scheduler's task states: a waiter marks its task BLOCKED before it looks
// at its condition, and wake_all makes every waiter RUNNABLE again
// (wake_proc), so a wakeup between the look and the sleep is not lost.
#include "waitqueue.hh"
#include "proc.hh"

void wait_prepare(wait_queue& wq, waiter& w) {
    spinlock_guard g(wq.lock);
    if (!w.link.is_linked()) wq.waiters.push_back(&w.link);
    w.p->state.store(TASK_BLOCKED, std::memory_order_seq_cst);
}

void wait_finish(wait_queue& wq, waiter& w) {
    w.p->state.store(TASK_RUNNABLE, std::memory_order_seq_cst);
    spinlock_guard g(wq.lock);
    if (w.link.is_linked()) list_head::erase(&w.link);
}

void wait_queue::wake_all() {
    spinlock_guard g(lock);
    for (list_links* l = waiters.front(); l && l != waiters.end(); l = l->next) {
        wake_proc(container_of(l, waiter, link)->p);
    }
}

