// kernel/rculist.cc: the out-of-line part of RCU lists (rculist.hh).
#include "rculist.hh"

void rcu_list_fell_off(const rcu_list_node* from) {
    panic("rcu list: a reader stepped from node %p to NULL: a node it was standing on lost its "
          "`next` while it was published or still being read (see the top of kernel/rculist.hh)",
          from);
}
