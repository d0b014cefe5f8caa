// kernel/rculist.cc: the out-of-line part of RCU lists (rculist.hh).
#include "rculist.hh"

#if GRACE_DEBUG
std::atomic<const rcu_list_node*> rcu_link_window_node{nullptr};
static void (*window_fn)(void*) = nullptr;
static void* window_arg = nullptr;

// rcu_link_window_open(n): n was just stored in a link; if n is the armed
// node, disarm and run the test's function.
void rcu_link_window_open(const rcu_list_node* n) {
    const rcu_list_node* armed = n;
    if (rcu_link_window_node.compare_exchange_strong(armed, nullptr)) window_fn(window_arg);
}
#endif

void rcu_link_window_arm([[maybe_unused]] const rcu_list_node* n,
                         [[maybe_unused]] void (*fn)(void*), [[maybe_unused]] void* arg) {
#if GRACE_DEBUG
    window_fn = fn;
    window_arg = arg;
    rcu_link_window_node.store(n);
#endif
}

void rcu_list_fell_off(const rcu_list_node* from) {
    panic("rcu list: a reader stepped from node %p to NULL: a node it was standing on lost its "
          "`next` while it was published or still being read (see the top of kernel/rculist.hh)",
          from);
}

void rcu_list_lost(const rcu_list_node* from, uint32_t steps) {
    panic("rcu list: a reader took %u steps, the last from node %p, without coming back to its "
          "list's head: it left its list through a node freed and reused while it was read (see "
          "the top of kernel/rculist.hh)", steps, from);
}
