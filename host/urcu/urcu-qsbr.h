/* host/urcu/urcu-qsbr.h: liburcu's QSBR flavor, on Grace's RCU.
 *
 * A program written for liburcu's urcu-qsbr builds against Grace with one
 * include path and one library changed:
 *     cc prog.c -I GRACE/host/urcu -L DIR -lgrace-urcu-qsbr      (was: -lurcu-qsbr)
 * where DIR holds libgrace-urcu-qsbr.so (`make host-urcu` builds it in
 * build/host/bench/). The names and their meaning are liburcu's
 * (rcu_register_thread, rcu_read_lock, rcu_quiescent_state, synchronize_rcu,
 * call_rcu, rcu_barrier, defer_rcu, rcu_dereference, ...); behind them is
 * the kernel's kernel/rcu.cc on host threads (host/port/port.hh). What
 * differs from liburcu is listed in docs/host.md: in short, at most 62
 * registered threads, read sections are calls (liburcu-QSBR's are empty),
 * callbacks run on the registered threads (and the port's ticker), not on
 * call_rcu worker threads, and a read section in a thread that is not
 * registered and online faults at once.
 *
 * The real functions are named grace_urcu_*; liburcu's names are macros
 * for them (define GRACE_URCU_NO_API_MAP to leave them out), so the
 * library never collides with the kernel's own C++ names or with liburcu
 * linked into the same program. Plain C (gnu11) or C++. */
#ifndef GRACE_URCU_QSBR_H
#define GRACE_URCU_QSBR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A callback record, embedded in the object a callback frees (liburcu's
 * struct rcu_head). Its first four words are Grace's own record
 * (kernel/rcu.hh's rcu_head: list link, function, grace period, age). */
struct grace_urcu_head {
    void *grace_record_[4];
    void (*func)(struct grace_urcu_head *head);
};

/* Threads: every thread with read sections registers first; a registered
 * thread is online (a reader between its quiescent states) until it goes
 * offline. grace_urcu_read_ongoing() is whether it is online, as in
 * liburcu's QSBR flavor. */
void grace_urcu_register_thread(void);
void grace_urcu_unregister_thread(void);
void grace_urcu_quiescent_state(void);
void grace_urcu_thread_offline(void);
void grace_urcu_thread_online(void);
int grace_urcu_read_ongoing(void);

/* Updaters. */
void grace_urcu_synchronize_rcu(void);
void grace_urcu_call_rcu(struct grace_urcu_head *head, void (*func)(struct grace_urcu_head *head));
void grace_urcu_barrier(void);
void grace_urcu_defer_rcu(void (*fct)(void *p), void *p);
int grace_urcu_defer_register_thread(void);
void grace_urcu_defer_unregister_thread(void);

/* rcu_read_lock()/rcu_read_unlock(): Grace's own (kernel/rcu.hh), one call
 * into the library each. Nestable. */
void grace_urcu_read_lock(void);
void grace_urcu_read_unlock(void);

/* Pointers, with the orders of kernel/rcu.hh's rcu_ptr: a dereference is
 * an acquire load (consume), a publication a release store, an exchange
 * sequentially consistent. Each evaluates its arguments once. */
#define grace_urcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_CONSUME)
#define grace_urcu_set_pointer(pp, v)                                   \
    do {                                                                \
        __typeof__(*(pp)) grace_urcu_v_ = (v);                          \
        __atomic_store_n((pp), grace_urcu_v_, __ATOMIC_RELEASE);        \
    } while (0)
#define grace_urcu_xchg_pointer(pp, v)                                  \
    __extension__({                                                     \
        __typeof__(*(pp)) grace_urcu_v_ = (v);                          \
        __atomic_exchange_n((pp), grace_urcu_v_, __ATOMIC_SEQ_CST);     \
    })
#define grace_urcu_cmpxchg_pointer(pp, old, new_)                       \
    __extension__({                                                     \
        __typeof__(*(pp)) grace_urcu_o_ = (old);                        \
        __typeof__(*(pp)) grace_urcu_n_ = (new_);                       \
        __atomic_compare_exchange_n((pp), &grace_urcu_o_, grace_urcu_n_, 0, \
                                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED); \
        grace_urcu_o_;                                                  \
    })

#ifdef __cplusplus
}
#endif

#ifndef GRACE_URCU_NO_API_MAP
/* liburcu's names (urcu/map/urcu-qsbr.h, urcu/pointer.h, urcu/call-rcu.h,
 * urcu/defer.h), and the few helpers of urcu/compiler.h that programs use
 * with them. */
#define rcu_head                    grace_urcu_head
#define rcu_register_thread         grace_urcu_register_thread
#define rcu_unregister_thread       grace_urcu_unregister_thread
#define rcu_read_lock               grace_urcu_read_lock
#define rcu_read_unlock             grace_urcu_read_unlock
#define rcu_read_ongoing            grace_urcu_read_ongoing
#define rcu_quiescent_state         grace_urcu_quiescent_state
#define rcu_thread_offline          grace_urcu_thread_offline
#define rcu_thread_online           grace_urcu_thread_online
#define synchronize_rcu             grace_urcu_synchronize_rcu
#define call_rcu                    grace_urcu_call_rcu
#define rcu_barrier                 grace_urcu_barrier
#define defer_rcu                   grace_urcu_defer_rcu
#define rcu_defer_register_thread   grace_urcu_defer_register_thread
#define rcu_defer_unregister_thread grace_urcu_defer_unregister_thread
#define rcu_defer_barrier           grace_urcu_barrier
#define rcu_dereference             grace_urcu_dereference
#define rcu_assign_pointer(p, v)    grace_urcu_set_pointer(&(p), (v))
#define rcu_set_pointer             grace_urcu_set_pointer
#define rcu_xchg_pointer            grace_urcu_xchg_pointer
#define rcu_cmpxchg_pointer         grace_urcu_cmpxchg_pointer

#define caa_container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#define CMM_LOAD_SHARED(x)          __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define CMM_STORE_SHARED(x, v)      __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define cmm_smp_mb()                __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define caa_cpu_relax()             __asm__ __volatile__("pause" ::: "memory")
#endif

#endif /* GRACE_URCU_QSBR_H */
