// kernel/ktest/ktest_rculist.cc: self-tests of RCU lists and the hash table
// (kernel/rculist.hh), one step at a time; the torture test is in
// rculist_torture.cc, the pid table's tests in ktest_pidtable.cc.
//
//   rculist-api   the list: entries in order after add_rcu, add_tail_rcu and
//                 insert_after_rcu; a reader standing on a node that a writer
//                 deletes (del_rcu) and queues for freeing (call_rcu) goes on
//                 reading it and walking from it, and finds the rest of the list
//   rculist-hash  the table: every key found (collisions included), absent keys
//                 not; lookups take no lock; an entry removed under a reader
//                 keeps its key and its place in the chain until the grace period
//   rculist-publish  a reader arriving right at the publishing store of an
//                 insert (held open by a debug-build hook) finds the new node's
//                 `next`, and a new entry's key, already set
//
// Both are deterministic: the "reader" and the "writer" are the same thread,
// interleaved by hand, so a wrong step fails every run. `ktest busted:NAME`
// frees at once in call_rcu: the reader then sees its node freed, and the
// test must fail.
#include "ktest/ktest.hh"
#include "rculist.hh"
#include "proc.hh"
#include <stdarg.h>

namespace {
constexpr uint64_t LIVE = 0x115711571157UL;

// plausible(n): a pointer a walk may follow: a kernel address (a freed
// node's `next` holds poison or the heap's free-list link).
bool plausible(const void* n) { return (uintptr_t(n) >> 47) == 0x1ffff; }

// A list entry. `magic` comes first: freeing overwrites it (the heap's
// free-list link, then poison), so a reader can tell a freed node.
struct lnode {
    uint64_t magic = LIVE;
    uint64_t key = 0;
    rcu_list_node link;
    rcu_head rcu;
};
lnode* entry(const rcu_list_node* n) { return container_of(const_cast<rcu_list_node*>(n), lnode, link); }

// A failed check: say what, count it.
struct checker {
    const char* test;
    int checks = 0, failed = 0;
    void operator()(bool ok, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
        ++checks;
        if (ok) return;
        ++failed;
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_printf("ktest %s: %s: FAILED", test, msg);
    }
    long report() {
        log_printf("ktest %s: %d checks, %d failed: %s", test, checks, failed, failed ? "FAILED" : "ok");
        return failed ? -1 : 0;
    }
};

// keys_from(l, from, out): the keys a reader meets walking from node `from`
// (exclusive) to the head, as "k1 k2 ...", with "NULL" where it stepped to
// NULL, "FREED" at a freed node, "LOOP" after 100 steps. Read section held.
const char* keys_from(const rcu_list& l, const rcu_list_node* from, char* out, size_t size) {
    size_t len = 0;
    out[0] = 0;
    const rcu_list_node* n = rcu_next(from);
    for (int steps = 0;; ++steps) {
        const char* stop = nullptr;
        if (n == nullptr) stop = "NULL";
        else if (l.is_head(n)) break;
        else if (!plausible(n) || entry(n)->magic != LIVE) stop = "FREED";
        else if (steps == 100) stop = "LOOP";
        if (stop) {
            snprintf(out + len, size - len, "%s%s", len ? " " : "", stop);
            break;
        }
        len += snprintf(out + len, size - len, "%s%lu", len ? " " : "", entry(n)->key);
        if (len >= size) break;
        n = rcu_next(n);
    }
    return out;
}

const char* keys_of(const rcu_list& l, char* out, size_t size) { return keys_from(l, l.head(), out, size); }

void free_lnode(rcu_head* h) { delete container_of(h, lnode, rcu); }

long test_api(long) {
    checker check{"rculist-api"};
    rcu_list l;
    spinlock writers{"rculist.writers"};
    char keys[128];
    lnode* n[6];
    for (int i = 0; i < 6; ++i) {
        n[i] = new lnode;
        assert(n[i]);
        n[i]->key = i;
    }
    {
        rcu_read_guard g;
        check(strcmp(keys_of(l, keys, sizeof(keys)), "") == 0, "an empty list has entries \"%s\"", keys);
    }
    {
        spinlock_guard w(writers);
        l.add_rcu(&n[1]->link);
        l.add_rcu(&n[0]->link);
        l.add_tail_rcu(&n[2]->link);
        l.add_tail_rcu(&n[3]->link);
        rcu_list::insert_after_rcu(&n[1]->link, &n[4]->link);
    }
    {
        rcu_read_guard g;
        check(strcmp(keys_of(l, keys, sizeof(keys)), "0 1 4 2 3") == 0,
              "add_rcu 1, add_rcu 0, add_tail_rcu 2, add_tail_rcu 3, insert 4 after 1: "
              "a reader sees \"%s\", not \"0 1 4 2 3\"", keys);
    }
    // A reader stands on node 4 while a writer deletes it and queues its
    // free; the reader then reads it and walks on from it.
    {
        rcu_read_guard g;
        const rcu_list_node* at = rcu_next(rcu_next(l.first_rcu()));
        check(at == &n[4]->link, "the third node is not node 4");
        {
            spinlock_guard w(writers);
            rcu_list::del_rcu(&n[4]->link);
        }
        call_rcu(&n[4]->rcu, free_lnode);     // not before this section ends
        {
            rcu_read_guard inner;             // a reader that arrives now
            check(strcmp(keys_of(l, keys, sizeof(keys)), "0 1 2 3") == 0,
                  "after del_rcu(4) a new reader sees \"%s\", not \"0 1 2 3\"", keys);
        }
        bool alive = n[4]->magic == LIVE && n[4]->key == 4;
        check(alive, "a reader standing on deleted node 4 finds it freed or changed "
              "(magic %#lx, key %lu): it must stay until the grace period", n[4]->magic, n[4]->key);
        if (alive) {
            check(strcmp(keys_from(l, at, keys, sizeof(keys)), "2 3") == 0,
                  "a reader standing on deleted node 4 walks on to \"%s\", not \"2 3\"", keys);
        }
    }
    rcu_barrier();                            // node 4 is freed now
    // The first and the last node; then the rest.
    {
        spinlock_guard w(writers);
        rcu_list::del_rcu(&n[0]->link);
        rcu_list::del_rcu(&n[3]->link);
    }
    {
        rcu_read_guard g;
        check(strcmp(keys_of(l, keys, sizeof(keys)), "1 2") == 0,
              "after deleting the first and the last node a reader sees \"%s\", not \"1 2\"", keys);
        check(strcmp(keys_from(l, &n[3]->link, keys, sizeof(keys)), "") == 0,
              "from the deleted last node a reader walks on to \"%s\", not to the head", keys);
    }
    {
        spinlock_guard w(writers);
        rcu_list::del_rcu(&n[1]->link);
        rcu_list::del_rcu(&n[2]->link);
        l.add_rcu(&n[5]->link);
    }
    {
        rcu_read_guard g;
        check(strcmp(keys_of(l, keys, sizeof(keys)), "5") == 0,
              "after deleting all and adding 5 a reader sees \"%s\", not \"5\"", keys);
    }
    {
        spinlock_guard w(writers);
        rcu_list::del_rcu(&n[5]->link);
        check(l.empty_locked(writers), "the list is not empty after deleting every node");
    }
    synchronize_rcu();
    for (int i : {0, 1, 2, 3, 5}) delete n[i];
    return check.report();
}
KTEST("rculist-api", test_api, 0,
      "RCU list: order after add/insert; a reader on a node being deleted reads it and walks on");

// rculist-lost: a node of list A reused in list B while a reader stands on
// it (here its `next` simply points into B, as a reused node's would): the
// reader goes round B for ever, never meeting A's head. Debug builds must
// panic (rcu_list_lost) instead of spinning with preemption off.
long test_lost(long) {
    static rcu_list a, b;
    static lnode na, nb;
    spinlock writers{"rculist.writers"};
    {
        spinlock_guard w(writers);
        a.add_rcu(&na.link);
        b.add_rcu(&nb.link);
        na.link.next.store(&nb.link, std::memory_order_relaxed);   // as if reused in b
    }
    rcu_read_guard g;
    long n = 0;
    for (lnode* e : for_each_rcu(a, lnode, link)) n += long(e->key);
    log_printf("ktest rculist-lost: the walk ended (%ld): no check caught the lost reader", n);
    return -1;
}
KTEST("rculist-lost", test_lost, 0,
      "(must panic) a reader whose node moved to another list is caught instead of looping");

// ---- the hash table ----
struct hentry {
    uint64_t magic = LIVE;
    uint64_t value = 0;
    rcu_hash_node node;
    rcu_head rcu;
};
using htable = rcu_hash_table<hentry, offsetof(hentry, node), 8>;
constexpr int NKEYS = 24;                     // 3 per bucket

void free_hentry(rcu_head* h) { delete container_of(h, hentry, rcu); }

hentry* new_hentry(uint64_t key) {
    hentry* e = new hentry;
    assert(e);
    e->value = key * 7;
    return e;
}

long test_hash(long) {
    checker check{"rculist-hash"};
    htable t;
    hentry* e[NKEYS + 1] = {};
    for (int k = 1; k <= NKEYS; ++k) t.insert(k, e[k] = new_hentry(k));
    {
        rcu_read_guard g;
        int found = 0;
        for (int k = 1; k <= NKEYS; ++k) {
            hentry* f = t.lookup(k);
            found += f == e[k] && f->value == uint64_t(k) * 7;
        }
        check(found == NKEYS, "%d of %d keys found, 3 to a bucket", found, NKEYS);
        for (uint64_t k : {uint64_t(0), uint64_t(NKEYS + 1), uint64_t(8 * 1000 + 1)}) {
            check(t.lookup(k) == nullptr, "lookup(%lu), a key never inserted, finds an entry", k);
        }
        // Lookups take no lock: the writers' lock counts every taking.
        uint32_t tickets = t.lock_tickets();
        for (int i = 0; i < 1000; ++i) (void) t.lookup(1 + i % NKEYS);
        uint32_t taken = t.lock_tickets() - tickets;
        check(taken == 0, "1000 lookups took the table's lock %u times (a lookup takes no lock)", taken);
    }
    // Bucket 1 holds 17, 9, 1 (insert puts an entry at the head of its
    // bucket). A reader stands on 9 while a writer removes it and queues its
    // free: it keeps its key, and its chain still leads on to 1.
    {
        rcu_read_guard g;
        hentry* nine = t.lookup(9);
        check(nine == e[9], "lookup(9) does not find entry 9");
        if (nine == e[9]) {
            t.remove(nine);
            call_rcu(&nine->rcu, free_hentry);
            e[9] = nullptr;
            check(t.lookup(9) == nullptr, "after remove(9), lookup(9) still finds it");
            check(t.lookup(1) == e[1] && t.lookup(17) == e[17],
                  "after remove(9), lookup of its bucket's other keys (1, 17) fails");
            bool alive = nine->magic == LIVE && nine->value == 63;
            check(alive, "a reader holding removed entry 9 finds it freed (magic %#lx): it must "
                  "stay until the grace period", nine->magic);
            if (alive) {
                check(nine->node.key == 9, "removed entry 9's key became %lu while a reader held it",
                      nine->node.key);
                const rcu_list_node* after = rcu_next(&nine->node.link);
                bool to_one = plausible(after) && after == &e[1]->node.link;
                check(to_one, "a lookup standing on removed entry 9 steps to %p, not to entry 1 "
                      "(the rest of its bucket)", after);
            }
        }
    }
    rcu_barrier();
    t.insert(9, e[9] = new_hentry(9));        // a key may come back, in a new entry
    {
        rcu_read_guard g;
        check(t.lookup(9) == e[9], "a key inserted again after its removal is not found");
    }
    for (int k = 1; k <= NKEYS; ++k) t.remove(e[k]);
    synchronize_rcu();
    {
        rcu_read_guard g;
        int left = 0;
        for (int k = 1; k <= NKEYS; ++k) left += t.lookup(k) != nullptr;
        check(left == 0, "%d keys still found after every entry was removed", left);
    }
    for (int k = 1; k <= NKEYS; ++k) delete e[k];
    return check.report();
}
KTEST("rculist-hash", test_hash, 0,
      "RCU hash table: keys found, lookups take no lock, an entry removed under a reader stays whole");

// ---- the moment of the publish ----
// A reader may arrive at any instant of an insert, the instant of the
// publishing store included: what it finds then must be whole (the new
// node's `next` already set, a new entry's key already its own). The
// instant is a few instructions wide; rcu_link_window_arm holds it open:
// right after the store that links the new node in, a reader here walks
// the list, or reads the entry's key. Shown to fail, every run, with
// insert_after_rcu linking the node in before setting its `next` (the
// walk steps to NULL) and with insert setting the key after the publish
// (the key read is 0).
struct publish_ctl {
    const rcu_list* list = nullptr;
    const rcu_hash_node* hnode = nullptr;
    bool opened = false;
    uint64_t key_seen = 0;
    char keys[128] = "";
};

void walk_at_publish(void* arg) {
    auto* p = static_cast<publish_ctl*>(arg);
    p->opened = true;
    rcu_read_guard g;
    if (p->list) keys_of(*p->list, p->keys, sizeof(p->keys));
    if (p->hnode) p->key_seen = p->hnode->key;
}

long test_publish(long) {
    checker check{"rculist-publish"};
    rcu_list l;
    spinlock writers{"rculist.writers"};
    lnode* n[4];
    for (int i = 0; i < 4; ++i) {
        n[i] = new lnode;
        assert(n[i]);
        n[i]->key = i;
    }
    {
        spinlock_guard w(writers);
        l.add_tail_rcu(&n[0]->link);
        l.add_tail_rcu(&n[2]->link);
    }
    publish_ctl mid, front;
    mid.list = front.list = &l;
    {
        spinlock_guard w(writers);
        rcu_link_window_arm(&n[1]->link, walk_at_publish, &mid);
        rcu_list::insert_after_rcu(&n[0]->link, &n[1]->link);
        rcu_link_window_arm(&n[3]->link, walk_at_publish, &front);
        l.add_rcu(&n[3]->link);
    }
    check(mid.opened, "inserting node 1 stored it in no link");
    check(!mid.opened || strcmp(mid.keys, "0 1 2") == 0, "a reader arriving as node 1 was "
          "linked in after node 0 met \"%s\", not \"0 1 2\"", mid.keys);
    check(front.opened, "add_rcu of node 3 stored it in no link");
    check(!front.opened || strcmp(front.keys, "3 0 1 2") == 0, "a reader arriving as node 3 "
          "was linked in at the front met \"%s\", not \"3 0 1 2\"", front.keys);
    {
        spinlock_guard w(writers);
        for (int i = 0; i < 4; ++i) rcu_list::del_rcu(&n[i]->link);
    }
    synchronize_rcu();
    for (lnode* x : n) delete x;

    htable t;
    hentry* e = new_hentry(5);
    publish_ctl h;
    h.hnode = &e->node;
    rcu_link_window_arm(&e->node.link, walk_at_publish, &h);
    t.insert(5, e);
    check(h.opened, "insert(5) stored its entry in no link");
    check(!h.opened || h.key_seen == 5, "a reader arriving as entry 5 was published read key "
          "%lu, not 5", h.key_seen);
    t.remove(e);
    synchronize_rcu();
    delete e;
    return check.report();
}
KTEST("rculist-publish", test_publish, 0,
      "RCU list and table: a reader arriving at the publishing store finds the new node whole");
}
