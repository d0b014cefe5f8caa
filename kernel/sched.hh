// kernel/sched.hh: the scheduler's interface (sched.cc): run queues,
// sleeping and waking, the idle loop.
#pragma once
#include "kernel.hh"

struct proc;
struct cpu;

void sched_init_cpu(cpu* c);         // make the idle task for c; becomes current
[[noreturn]] void idle_loop();
void wake_proc(proc* p);             // blocked -> runnable
void enqueue_new(proc* p);           // a new task, on the least loaded CPU
void yield();
// schedule_blocked(): give up the CPU until wake_proc (unless a wakeup has
// already happened, in which case schedule finds the task runnable).
void schedule_blocked();
void msleep(uint64_t ms);
void sched_tick();
int pick_least_loaded_cpu();
void set_kernel_stack(cpu* c, uintptr_t top);
extern "C" void schedule_tail(proc* prev);
// task_label(p, buf, n): "pid 3 (gdbdemo)", "idle1" for an idle task, for
// diagnostics that must not know what a proc is (RCU's stall report).
const char* task_label(const proc* p, char* buf, size_t n);
