// kernel/ktest/rculist_torture.cc: `ktest rculist-torture CYCLES`: RCU
// lists (kernel/rculist.hh) under readers and writers on every CPU.
//
// A list holds NPERM permanent nodes, which no writer ever deletes, among
// churning ones; a hash table holds NPERM permanent keys among churning
// keys. A writer on every CPU, as fast as it can, deletes a random churning
// node and frees it after a grace period (call_rcu mostly, synchronize_rcu
// then delete every 8th time), then adds a new one at a random place; and
// removes or inserts one of its own churning keys. Readers (a kernel thread
// on every CPU, lingering now and then on the node they stand on, and the
// timer interrupt on every CPU) walk the whole list and look keys up, with
// no lock. Each walk must:
//   - meet only live nodes (a freed node's magic is gone);
//   - never step to NULL or loop;
//   - meet every permanent node once, in order: an entry that is in the
//     list for the whole walk is seen exactly once;
// and each lookup must find every permanent key, and any churning key only
// whole (its magic and value intact).
// The run ends when the writers have done CYCLES cycles and the readers
// have walked the list as many times as CYCLES / 4, so a slow host makes it
// longer, never wrong. `ktest busted:rculist-torture` frees without a grace
// period: readers must then meet freed nodes.
#include "ktest/ktest.hh"
#include "tickhook.hh"
#include "rculist.hh"
#include "proc.hh"
#include "apic.hh"

namespace {
constexpr uint64_t LIVE = 0x7071714e70717e11UL;
constexpr int NPERM = 8;                  // permanent list nodes, and permanent keys
constexpr int NCHURN = 40;                // churning list nodes (the list's length stays NPERM + NCHURN)
constexpr int KEYS_PER_WRITER = 16;       // churning keys, each writer its own
constexpr uint64_t CHURN_KEY0 = 1000;

struct tnode {
    uint64_t magic = LIVE;                // first: freeing overwrites it
    uint64_t key = 0;                     // < NPERM: permanent
    rcu_list_node link;
    rcu_head rcu;
};
struct tentry {
    uint64_t magic = LIVE;
    uint64_t value = 0;                   // key * 3
    rcu_hash_node node;
    rcu_head rcu;
};

rcu_list tlist;
spinlock tlist_lock{"rculist.writers"};   // the list's writers
int tlist_churn = 0;                      // churning nodes in the list (under tlist_lock)
rcu_hash_table<tentry, offsetof(tentry, node), 16> ttable;

struct counters {
    std::atomic<uint64_t> walks{0}, irq_walks{0}, lookups{0}, cycles{0};
    std::atomic<uint64_t> freed{0}, fell_off{0}, loops{0}, perm_wrong{0}, lost{0}, torn{0};
    std::atomic<uint64_t> nodes_alive{0};
};
counters ct;
std::atomic<bool> stopping{false}, irq_on{false};

uint64_t next_rand(uint64_t* x) {
    *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
    return *x;
}
bool plausible(const void* n) { return (uintptr_t(n) >> 47) == 0x1ffff; }
tnode* node_of(const rcu_list_node* n) { return container_of(const_cast<rcu_list_node*>(n), tnode, link); }

// walk(linger, x): one reader's walk of the whole list, in one read section.
void walk(bool linger, uint64_t* x) {
    rcu_read_guard g;
    uint64_t expect_perm = 0;
    const rcu_list_node* n = tlist.first_rcu();
    for (int steps = 0; !tlist.is_head(n); ++steps) {
        if (n == nullptr) {
            ct.fell_off.fetch_add(1);
            return;
        }
        if (!plausible(n) || node_of(n)->magic != LIVE) {
            ct.freed.fetch_add(1);
            return;
        }
        if (steps > 64 * (NPERM + NCHURN)) {     // nodes added ahead make a walk longer, never this long
            ct.loops.fetch_add(1);
            return;
        }
        tnode* t = node_of(n);
        if (t->key < NPERM) {
            if (t->key != expect_perm) ct.perm_wrong.fetch_add(1);
            expect_perm = t->key + 1;
        }
        if (linger && next_rand(x) % 8 == 0) delay_ns(next_rand(x) % 3000);
        const rcu_list_node* next = rcu_next(n);
        if (t->magic != LIVE) {               // freed while we stood on it
            ct.freed.fetch_add(1);
            return;
        }
        n = next;
    }
    if (expect_perm != NPERM) ct.perm_wrong.fetch_add(1);
}

// lookup_some(x): a permanent key, which must be there, and a churning one.
void lookup_some(uint64_t* x) {
    rcu_read_guard g;
    uint64_t perm = next_rand(x) % NPERM;
    tentry* e = ttable.lookup(perm);
    if (!e || e->magic != LIVE || e->value != perm * 3) ct.lost.fetch_add(1);
    uint64_t key = CHURN_KEY0 + next_rand(x) % (KEYS_PER_WRITER * ncpu);
    if (tentry* c = ttable.lookup(key)) {
        delay_ns(next_rand(x) % 2000);
        if (c->magic != LIVE || c->value != key * 3) ct.torn.fetch_add(1);
    }
    ct.lookups.fetch_add(2, std::memory_order_relaxed);
}

void reader_fn(void*) {
    uint64_t x = clock_ns() * (current()->pinned + 3) | 1;
    for (uint64_t i = 0; !stopping.load(std::memory_order_relaxed); ++i) {
        walk(true, &x);
        ct.walks.fetch_add(1, std::memory_order_relaxed);
        // A lookup follows links with no check of its own: with grace
        // periods skipped it could fault on a freed entry's poison, so the
        // busted run only walks (walk checks each step).
        if (!rcu_busted) lookup_some(&x);
        if (i % 64 == 63) yield();
    }
    proc_exit(0);
}

void irq_reader() {
    uint64_t x = clock_ns() | 1;
    walk(false, &x);
    ct.irq_walks.fetch_add(1, std::memory_order_relaxed);
}
TICK_HOOK(rculist_torture_irq_reader, irq_on, irq_reader);

tnode* new_tnode(uint64_t key) {
    tnode* t = new tnode;
    assert(t);
    t->key = key;
    ct.nodes_alive.fetch_add(1);
    return t;
}
void free_tnode(rcu_head* h) {
    ct.nodes_alive.fetch_sub(1);
    delete container_of(h, tnode, rcu);
}
void free_tentry(rcu_head* h) { delete container_of(h, tentry, rcu); }

// churn_list(x): delete a random churning node, free it after a grace
// period, add a new one at a random place.
void churn_list(uint64_t* x, uint64_t cycle) {
    tnode* old = nullptr;
    tnode* fresh = new_tnode(CHURN_KEY0 + next_rand(x) % 100000);
    {
        spinlock_guard g(tlist_lock);
        int victim = int(next_rand(x) % tlist_churn);
        for (rcu_list_node* n = tlist.first_locked(tlist_lock); !old;
             n = rcu_list::next_locked(n, tlist_lock)) {
            if (node_of(n)->key >= NPERM && victim-- == 0) old = node_of(n);
        }
        rcu_list::del_rcu(&old->link);
        int place = int(next_rand(x) % (NPERM + NCHURN));
        rcu_list_node* pos = tlist.head_locked(tlist_lock);
        for (int i = 0; i < place; ++i) pos = rcu_list::next_locked(pos, tlist_lock);
        rcu_list::insert_after_rcu(pos, &fresh->link);
    }
    if (cycle % 8 == 7) {
        synchronize_rcu();
        free_tnode(&old->rcu);
    } else {
        call_rcu(&old->rcu, free_tnode);
    }
}

struct writer_arg {
    int index;
    tentry* mine[KEYS_PER_WRITER] = {};   // this writer's churning keys in the table
};

// churn_table(w, x): remove or insert one of this writer's keys.
void churn_table(writer_arg* w, uint64_t* x) {
    int k = int(next_rand(x) % KEYS_PER_WRITER);
    uint64_t key = CHURN_KEY0 + uint64_t(w->index) * KEYS_PER_WRITER + k;
    if (tentry* e = w->mine[k]) {
        ttable.remove(e);
        w->mine[k] = nullptr;
        call_rcu(&e->rcu, free_tentry);
    } else {
        tentry* n = new tentry;
        assert(n);
        n->value = key * 3;
        ttable.insert(key, n);
        w->mine[k] = n;
    }
}

void writer_fn(void* arg) {
    auto* w = static_cast<writer_arg*>(arg);
    uint64_t x = clock_ns() * (w->index + 7) | 1;
    for (uint64_t cycle = 0; !stopping.load(std::memory_order_relaxed); ++cycle) {
        churn_list(&x, cycle);
        churn_table(w, &x);
        ct.cycles.fetch_add(1, std::memory_order_relaxed);
        if (cycle % 32 == 31) yield();
    }
    for (tentry*& e : w->mine) {
        if (e) {
            ttable.remove(e);
            call_rcu(&e->rcu, free_tentry);
            e = nullptr;
        }
    }
    proc_exit(0);
}

long rculist_torture(long cycles) {
    rcu_barrier();
    size_t free0 = pmem_free_pages();
    for (auto* c : {&ct.walks, &ct.irq_walks, &ct.lookups, &ct.cycles, &ct.freed, &ct.fell_off,
                    &ct.loops, &ct.perm_wrong, &ct.lost, &ct.torn, &ct.nodes_alive}) {
        c->store(0);
    }
    stopping = false;
    // The list: NPERM permanent nodes spread among NCHURN churning ones.
    {
        spinlock_guard g(tlist_lock);
        assert(tlist.empty_locked(tlist_lock));
    }
    for (int i = NPERM + NCHURN - 1; i >= 0; --i) {
        bool perm = i % ((NPERM + NCHURN) / NPERM) == 0;
        tnode* t = new_tnode(perm ? uint64_t(i / ((NPERM + NCHURN) / NPERM)) : CHURN_KEY0 + i);
        spinlock_guard g(tlist_lock);
        tlist.add_rcu(&t->link);
        tlist_churn += !perm;
    }
    tentry* perm_entries[NPERM];
    for (int k = 0; k < NPERM; ++k) {
        perm_entries[k] = new tentry;
        assert(perm_entries[k]);
        perm_entries[k]->value = uint64_t(k) * 3;
        ttable.insert(k, perm_entries[k]);
    }
    writer_arg wargs[MAXCPU];
    proc* threads[2 * MAXCPU];
    int n = 0;
    for (int i = 0; i < ncpu; ++i) {
        wargs[i].index = i;
        threads[n++] = kthread_spawn_on(i, "rcul-writer", writer_fn, &wargs[i]);
        threads[n++] = kthread_spawn_on(i, "rcul-reader", reader_fn, nullptr);
    }
    irq_on = true;
    // Until enough has happened, counted in events; a run that makes no
    // progress for a minute is STALLED (a hang, not a slow host).
    uint64_t min_walks = uint64_t(cycles) / 4;
    uint64_t last_progress = 0, stalled_at = clock_ns() + 60000000000UL;
    bool stalled = false;
    while (ct.cycles.load() < uint64_t(cycles) || ct.walks.load() < min_walks) {
        uint64_t progress = ct.cycles.load() + ct.walks.load();
        if (progress != last_progress) {
            last_progress = progress;
            stalled_at = clock_ns() + 60000000000UL;
        } else if (clock_ns() > stalled_at) {
            stalled = true;
            break;
        }
        msleep(5);
    }
    stopping = true;
    for (int i = 0; i < n; ++i) kthread_join(threads[i]);
    irq_on = false;
    // Empty the list and the table.
    synchronize_rcu();
    while (true) {
        tnode* t;
        {
            spinlock_guard g(tlist_lock);
            if (tlist.empty_locked(tlist_lock)) break;
            t = node_of(tlist.first_locked(tlist_lock));
            rcu_list::del_rcu(&t->link);
            tlist_churn -= t->key >= NPERM;
        }
        call_rcu(&t->rcu, free_tnode);
    }
    for (tentry* e : perm_entries) {
        ttable.remove(e);
        call_rcu(&e->rcu, free_tentry);
    }
    rcu_barrier();
    size_t free1 = free_pages_settled(free0);

    uint64_t bad = ct.freed + ct.fell_off + ct.loops + ct.perm_wrong + ct.lost + ct.torn;
    bool ok = bad == 0 && !stalled && ct.nodes_alive.load() == 0 && free1 == free0;
    log_printf("rculist-torture: %lu writer cycles on %d CPUs; %lu reader walks, %lu in interrupts, "
               "%lu lookups%s", ct.cycles.load(), ncpu, ct.walks.load(), ct.irq_walks.load(),
               ct.lookups.load(), stalled ? "; STALLED" : "");
    log_printf("rculist-torture: walks that met a freed node %lu, stepped to NULL %lu, looped %lu, "
               "missed or repeated a permanent node %lu; lookups that lost a permanent key %lu, saw a "
               "freed entry %lu: %s", ct.freed.load(), ct.fell_off.load(), ct.loops.load(),
               ct.perm_wrong.load(), ct.lost.load(), ct.torn.load(), bad ? "FAILED" : "ok");
    log_printf("rculist-torture: nodes leaked %lu; free pages %zu before, %zu after: %s",
               ct.nodes_alive.load(), free0, free1,
               ct.nodes_alive.load() == 0 && free1 == free0 ? "ok" : "FAILED");
    log_printf("rculist-torture: %s", ok ? "PASSED" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("rculist-torture", rculist_torture, 20000,
      "readers walk an RCU list and table on every CPU while writers churn it: ARG writer cycles");
}
