// host/bench/urcu_flavor.cc: a liburcu flavor (Debian's liburcu-dev) as a
// host_bench implementation, written the way LS_RCU is: readers
// dereference the current struct inside a read section and checksum it;
// the writer copies it, changes the copy, publishes it with
// rcu_xchg_pointer and frees the old one with call_rcu. Compiled once per
// flavor: URCU_FLAVOR_QSBR (read sections are empty; readers announce
// quiescent states) or URCU_FLAVOR_MEMB (read sections bump a per-thread
// counter; the writer's grace period uses membarrier(2)). The inline
// (_LGPL_SOURCE) read side, liburcu's fastest.
#define _LGPL_SOURCE
#if defined(URCU_FLAVOR_QSBR)
#include <urcu/urcu-qsbr.h>
#define URCU(name) urcu_qsbr_##name
#define IMPL_NAME "liburcu-qsbr"
#define IMPL_VAR urcu_qsbr_impl
#elif defined(URCU_FLAVOR_MEMB)
#include <urcu/urcu-memb.h>
#define URCU(name) urcu_memb_##name
#define IMPL_NAME "liburcu-memb"
#define IMPL_VAR urcu_memb_impl
#else
#error "define URCU_FLAVOR_QSBR or URCU_FLAVOR_MEMB"
#endif
#include "bench.hh"
#include "abi.hh"
#include "checksum.hh"
#include <cstring>

namespace {
struct node {
    char c[LS_SIZE];
    struct rcu_head rcu;
};
node* current = new node{};

long read(size_t len) {
    URCU(read_lock)();
    const node* n = rcu_dereference(current);
    long sum = long(ls_checksum(n->c, len));
    URCU(read_unlock)();
    return sum;
}

void free_node(struct rcu_head* h) { delete caa_container_of(h, node, rcu); }

long write(const char* data, size_t len) {
    node* n = new node;
    memcpy(n->c, current->c, LS_SIZE);      // the only writer: current cannot change
    memcpy(n->c, data, len);
    node* old = rcu_xchg_pointer(&current, n);
    URCU(call_rcu)(&old->rcu, free_node);
    return 0;
}

void thread_begin() { URCU(register_thread)(); }
void thread_end() { URCU(unregister_thread)(); }
#if defined(URCU_FLAVOR_QSBR)
void quiescent() { URCU(quiescent_state)(); }
#endif

// settle(): wait for every callback queued so far (from a thread that is
// not registered: liburcu allows it).
void settle() { URCU(barrier)(); }
}

extern const bench_impl IMPL_VAR = {
    IMPL_NAME, "liburcu", thread_begin, thread_end, read, write,
#if defined(URCU_FLAVOR_QSBR)
    quiescent,
#else
    nullptr,
#endif
    settle,
};
