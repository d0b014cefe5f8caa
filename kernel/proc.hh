// kernel/proc.hh: tasks (processes and kernel threads). The scheduler is
// sched.hh, wait queues are waitqueue.hh.
#pragma once
#include "kernel.hh"
#include "cpu.hh"
#include "list.hh"
#include "rcu.hh"
#include "rculist.hh"
#include "kalloc.hh"
#include "sched.hh"
#include "waitqueue.hh"
#include <atomic>

constexpr size_t KSTACK_PAGES = 4;
constexpr size_t KSTACK_SIZE = KSTACK_PAGES * PAGESIZE;

// BLOCKED: about to sleep (wait_prepare, msleep) but still running;
// SLEEPING: switched away by schedule_blocked() and on no run queue, so only
// wake_proc puts it back (why the two differ: see wake_proc in sched.cc).
enum task_state : int { TASK_RUNNABLE = 0, TASK_BLOCKED = 1, TASK_ZOMBIE = 2, TASK_SLEEPING = 3 };

struct proc {
    uintptr_t saved_rsp = 0;         // kernel %rsp while switched out
    int pid = 0;
    std::atomic<int> state{TASK_RUNNABLE};
    std::atomic<bool> on_cpu{false}; // running, or still switching away
    bool on_runq = false;            // guarded by cpus[home_cpu].runq_lock
    int home_cpu = 0;                // the run queue it joins
    int pinned = -1;                 // sys_setcpu: -1 = anywhere
    list_links runq_link;
    list_links all_link;             // in the list of every process (proc.cc)
    uint64_t* pagetable = nullptr;   // PML4 (direct-map address)
    void* kstack = nullptr;          // KSTACK_SIZE bytes
    bool is_kthread = false;
    bool is_idle = false;
    unsigned slice_ticks = 0;        // ticks used of its time slice

    // Family (guarded by proc_tree_lock). `parent` is read without the lock
    // under RCU by sys_getppid; writers publish it under the lock.
    rcu_ptr<proc> parent;
    list_head children;
    list_links child_link;
    int exit_status = 0;

    uint64_t wake_at_ns = 0;         // msleep
    list_links sleep_link;
    std::atomic<int> last_cpu{-1};   // the CPU it runs or last ran on (sched.cc); -1: never ran
    // The program's name. Only the task itself changes it (exec), with
    // proc_set_name; others read it with proc_copy_name, which retries
    // while name_seq is odd, so that it never sees half of two names.
    std::atomic<uint32_t> name_seq{0};
    char name[32] = {};
    rcu_hash_node pid_node;          // in the pid table, from publish to reaping (proc.cc)
    rcu_head rcu;                    // freed with rcu_free

    uintptr_t kstack_top() const { return uintptr_t(kstack) + KSTACK_SIZE; }
    regstate* regs() const { return reinterpret_cast<regstate*>(kstack_top()) - 1; }
};

// Processes (proc.cc).
extern spinlock proc_tree_lock;
// The process table's size: fork fails with -EAGAIN once this many tasks
// (processes, zombies and kernel threads) exist. Kernel threads may go past it.
constexpr int NPROC = 512;
// proc_alloc(name, who, &err): a task with a kernel stack and a pid, not yet
// runnable; nullptr with *err = -EAGAIN (table full: user tasks only) or
// -ENOMEM (user tasks may not take the kernel's memory reserve).
proc* proc_alloc(const char* name, alloc_for who = alloc_for::kernel, int* err = nullptr);
proc* kthread_create(const char* name, void (*fn)(void*), void* arg);
void kthread_join(proc* p);          // wait for a kernel thread's proc_exit, free it
// kthread_spawn_on(cpu, ...): a kernel thread pinned to `cpu`, started now.
proc* kthread_spawn_on(int cpu, const char* name, void (*fn)(void*), void* arg);
[[noreturn]] void proc_exit(int status);
int proc_fork(regstate* regs);
int proc_exec(proc* p, const char* name, int argc, const char* const* argv);
int proc_waitpid(int pid, int* status_out);
void proc_start_init(const char* name, int argc, const char* const* argv);
[[noreturn]] void proc_kill_current(regstate* r, const char* what);
int proc_count();
int proc_last_pid();                 // the highest pid handed out so far
// pid_lookup(pid): the task with that pid, or nullptr: a lookup in the pid
// table with no lock. The caller is in an RCU read section, which keeps
// the task's proc valid until the section ends.
proc* pid_lookup(int pid);
// proc_info(pid, out): fill *out for task `pid` (sys_procinfo): 0, or
// -ESRCH when no task has that pid (a zombie has it until it is reaped).
int proc_info(int pid, procinfo* out);
void proc_dump();                    // print every process (the shell's `ps`)
void wake_proc_tree(proc* parent);   // a child of `parent` changed state
