// kernel/ls/ls_busted.cc: LS_BUSTED, RCU with the grace period skipped.
//
// Exactly LS_RCU, except the writer frees the old struct at once. A reader
// on another CPU may still be checksumming it, and sees poison (or a newer
// struct that reused the memory). It exists so that tests can prove they
// catch a broken scheme. (On one CPU it is safe by accident: a read section
// cannot be preempted, so the writer never runs in the middle of one.)
#include "ls.hh"
#include "spinlock.hh"

namespace {
struct node {
    largestruct ls;
};
rcu_ptr<node> current_ls;
spinlock writers{"ls.writers"};

void init() { current_ls.init(ls_new_copy<node>(nullptr, nullptr, 0)); }

long read(size_t len) {
    // BEGIN PSET 2 EXPLANATION
    rcu_read_guard g;
    // STUB: // (the read side of LS_RCU: pset 2)
    // END PSET 2 EXPLANATION
    const node* n = current_ls.load();
    return long(ls_checksum(n->ls.c, len));
}

long write(const char* data, size_t len) {
    node* old;
    {
        spinlock_guard g(writers);
        old = current_ls.load_locked(writers);
        node* n = ls_new_copy(old, data, len);
        if (!n) return -ENOMEM;
        current_ls.publish(n);
    }
    delete old;                      // BUG on purpose: no grace period
    return 0;
}

constexpr ls_scheme scheme = {
    .id = LS_BUSTED,
    .name = "busted",
    .init = init,
    .read = read,
    .write = write,
    .current = ls_current_pointer<node>(current_ls),
    .waiting_what = "nothing: the writer frees the old struct at once (no grace period: the bug)",
};
LS_SCHEME(scheme);
}
