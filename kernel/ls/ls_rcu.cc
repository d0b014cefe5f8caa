// kernel/ls/ls_rcu.cc: LS_RCU, the lecture's scheme.
//
// BEGIN PSET 2 EXPLANATION
// Readers: rcu_read_lock (preemption off, nothing else), load the pointer
// once, checksum, rcu_read_unlock. Writers: under the writers' spinlock,
// copy the current struct, change the copy, publish it; then free the old
// one only after a grace period: with call_rcu (the default: the writer
// does not wait) or, with the boot option ls_sync=1, synchronize_rcu then
// delete (the writer waits).
// STUB: // Writers copy the current struct under the writers' spinlock, change the
// STUB: // copy and publish it. Pset 2 (psets/2-rcu.md): the read side, and when
// STUB: // the old struct may be freed.
// END PSET 2 EXPLANATION
#include "ls.hh"
#include "spinlock.hh"

namespace {
std::atomic<long> waiting{0};       // old structs not yet freed

struct node {
    largestruct ls;
    rcu_head rcu;
    // Only a removed struct is ever freed: one fewer waits.
    ~node() { waiting.fetch_sub(1, std::memory_order_relaxed); }
};
rcu_ptr<node> current_ls;
spinlock writers{"ls.writers"};

void init() { current_ls.init(ls_new_copy<node>(nullptr, nullptr, 0)); }

long ls_rcu_read(size_t len) {
    // BEGIN PSET 2 SOLUTION: read inside a read section
    rcu_read_guard g;
    // END PSET 2 SOLUTION
    const node* n = current_ls.load();
    return long(ls_checksum(n->ls.c, len));
}

long ls_rcu_write(const char* data, size_t len) {
    node* old;
    {
        spinlock_guard g(writers);
        old = current_ls.load_locked(writers);
        node* n = ls_new_copy(old, data, len);
        if (!n) return -ENOMEM;
        current_ls.publish(n);
        waiting.fetch_add(1, std::memory_order_relaxed);
    }
    // BEGIN PSET 2 SOLUTION: free the old struct only after a grace period
    if (kopts.ls_sync) {
        synchronize_rcu();
        delete old;
    } else {
        rcu_free(old);
    }
    // STUB: delete old;        // readers may still be reading it
    // END PSET 2 SOLUTION
    return 0;
}

constexpr ls_scheme scheme = {
    .id = LS_RCU,
    .name = "rcu",
    .init = init,
    .read = ls_rcu_read,
    .write = ls_rcu_write,
    .current = ls_current_pointer<node>(current_ls),
    .waiting = &waiting,
    .waiting_what = "old structs waiting for a grace period (in call_rcu callbacks; with "
                    "ls_sync=1, their writers wait in synchronize_rcu)",
    .settle = rcu_barrier,
};
LS_SCHEME(scheme);
}
