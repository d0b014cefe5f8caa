// kernel/rculist.hh: RCU-protected lists, and a hash table built on them.
//
// THE IDEA. An RCU list is an intrusive, circular, doubly linked list that
// readers walk with no lock at all, inside an RCU read section, while one
// writer at a time (holding the list's lock) adds and deletes entries. It
// is rcu.cc's single published pointer, done once per link: a writer
// changes the list with single pointer stores that readers see either
// before or after, never half-way, and frees a deleted entry only after a
// grace period, when no reader can still be standing on it.
//
// WHAT A READER MAY ASSUME (inside rcu_read_lock .. rcu_read_unlock, loading
// every link through rcu_next(), which for_each_rcu does):
//  - every entry it reaches was fully initialized before it was published:
//    add_rcu fills in the entry and its own links first, then publishes it
//    with one release store;
//  - every entry it reaches stays allocated, and keeps the fields it was
//    published with, until the reader's section ends, even if a writer
//    deletes it meanwhile;
//  - following `next` always ends at the list's head: it never loops and
//    never leaves the list for memory that is not an entry;
//  - an entry that was in the list for the whole walk is seen exactly once.
//    An entry added or deleted during the walk may be seen or missed: the
//    walk is a view of the list at no single moment. A reader that needs
//    "the state at one instant" (all entries at once) needs a lock, or a
//    generation count, not this.
// A reader must not use `prev` (del_rcu leaves it invalid), must not keep a
// pointer to an entry past its section, and must not write to an entry.
//
// WHAT A WRITER DOES (holding the list's lock: writers are serialized,
// readers are not stopped):
//  - add_rcu / add_tail_rcu / insert_after_rcu: initialize the entry, then
//    publish it (insert_after_rcu, the one publishing store);
//  - del_rcu: unpublish it (one store makes readers that arrive later skip
//    it); the entry is then out of the list but may still be read;
//  - free or reuse the entry only as the rules below allow.
// BEGIN PSET 4 SOLUTION: why del_rcu leaves `next` alone, and when an entry may be reused
//
// WHY del_rcu LEAVES `next` ALONE. A reader may have loaded a pointer to
// the entry just before the unlink and be standing on it now, between two
// of its steps. Its next step loads the entry's `next`. Left alone, `next`
// still points to the entry's old successor, so the reader rejoins the
// list and walks the rest of it: it sees the entries after the deleted one,
// as it would had it been a moment faster. Cleared to NULL (what an ordinary
// list's erase does) the reader would fault, or, if NULL meant "end", stop
// early and miss live entries; set to a poison value it would step into
// garbage. Nothing else can fix this, because the writer cannot know which
// readers stand where. The successor is safe to visit even if it is deleted
// later too: it is freed only after a grace period that starts after its own
// deletion, and the reader's section began before the first deletion, so
// the grace period waits for the reader. A chain of deleted entries always
// leads back to the list: each deleted entry's `next` points to an entry
// that was in the list when it was deleted. `prev` is another matter:
// readers never follow it, so del_rcu may clear it, and does, so that a
// writer who uses a deleted entry's links by mistake faults at once.
//
// WHEN AN ENTRY MAY BE FREED OR REUSED. Only after a full grace period that
// starts after the del_rcu: call_rcu/rcu_free from the writer after the
// unlink, or synchronize_rcu then kfree. Before that a reader may still be
// standing on it. Freeing it lets the allocator hand the memory to someone
// else while readers read it. Reusing it at once (re-inserting it in this
// list or another, or changing its key) rewrites `next` under a reader: a
// reader standing on it jumps to the new position and may skip entries it
// should see, see some twice, walk into another list and never reach its own
// head, or accept an entry whose key changed to the one it looks for. The
// order matters too: the grace period must start after the unlink, so
// queue the free after del_rcu, never before it: a grace period that
// started while the entry was still published does not cover readers that
// found it after the grace period began.
//
// STUB: // (The rules for deleting and reusing an entry: your answers to the
// STUB: // written questions, psets/4-rcu-lists-answers.md.)
// END PSET 4 SOLUTION
//
// THE HASH TABLE. rcu_hash_table is an array of RCU lists (buckets) and one
// spinlock for its writers. lookup takes no lock: it walks one bucket in
// the caller's read section and returns the entry or nullptr; the entry is
// valid until the section ends, and may already be removed by then (a
// lookup is a view of one moment). insert and remove take the lock; remove
// leaves freeing to the caller, after a grace period. The kernel's pid
// table (proc.cc) is one: sys_procinfo looks up a pid under RCU alone,
// while fork and wait insert and remove under the table's lock, and the
// proc is freed with rcu_free after its removal.
//
// Linux's include/linux/rculist.h is the full version (list_add_rcu,
// list_del_rcu, list_for_each_entry_rcu, hlist_*_rcu); its
// Documentation/RCU/listRCU.rst tells the story with the routing table.
#pragma once
#include "kernel.hh"
#include "spinlock.hh"
#include "rcu.hh"
#include <atomic>

struct rcu_list_node;

// The moment a node is published, held open for a self-test (debug builds;
// ktest rculist-publish): after rcu_link_window_arm(n, fn, arg), the next
// store of n into a link runs fn(arg) right after it, on the writer's CPU,
// as a reader that arrived just then would find the list.
void rcu_link_window_arm(const rcu_list_node* n, void (*fn)(void*), void* arg);
#if GRACE_DEBUG
extern std::atomic<const rcu_list_node*> rcu_link_window_node;
void rcu_link_window_open(const rcu_list_node* n);
#endif

// rcu_link: a link readers follow; a std::atomic whose store opens that
// window when it stores the armed node.
struct rcu_link : std::atomic<rcu_list_node*> {
    using base = std::atomic<rcu_list_node*>;
    constexpr rcu_link(rcu_list_node* p = nullptr) noexcept : base(p) {}
    void store(rcu_list_node* p, std::memory_order order = std::memory_order_seq_cst) noexcept {
        base::store(p, order);
#if GRACE_DEBUG
        if (__builtin_expect(p != nullptr
                             && rcu_link_window_node.load(std::memory_order_relaxed) == p, 0)) {
            rcu_link_window_open(p);
        }
#endif
    }
};

// A link in an RCU list: embed one in each entry.
struct rcu_list_node {
    rcu_link next{nullptr};                      // readers follow this
    rcu_list_node* prev = nullptr;               // writers only
};

// rcu_next(n): the node after n, for readers: inside a read section, an
// acquire load (on x86 a plain load: the compiler keeps the reads of the
// next node after it). Debug builds warn when no read section is held.
inline rcu_list_node* rcu_next(const rcu_list_node* n) {
#if GRACE_DEBUG
    if (__builtin_expect(!rcu_read_lock_held(), 0)) rcu_warn_unprotected_load(n);
#endif
    return n->next.load(std::memory_order_acquire);
}

// rcu_list_fell_off(from): a reader stepped from `from` to NULL (debug
// builds panic with an explanation; see the top of the file).
[[noreturn]] void rcu_list_fell_off(const rcu_list_node* from);
// rcu_list_lost(from, steps): a reader took `steps` steps without coming
// back to its list's head: it walked off its own list, through a node that
// was freed and reused (in another bucket, say) while it stood on it. Such
// a reader would loop for ever with preemption off; debug builds panic.
[[noreturn]] void rcu_list_lost(const rcu_list_node* from, uint32_t steps);
constexpr uint32_t RCU_LIST_MAX_STEPS = 1u << 20;   // far beyond any real list

class rcu_list {
public:
    rcu_list() { head_.next.store(&head_, std::memory_order_relaxed); head_.prev = &head_; }
    rcu_list(const rcu_list&) = delete;
    rcu_list& operator=(const rcu_list&) = delete;

    // Readers (inside a read section).
    rcu_list_node* first_rcu() const { return rcu_next(&head_); }
    bool is_head(const rcu_list_node* n) const { return n == &head_; }
    const rcu_list_node* head() const { return &head_; }

    // Writers (holding the lock that serializes this list's writers).
    // add_rcu(n): publish n at the front; add_tail_rcu(n): at the back.
    void add_rcu(rcu_list_node* n) { insert_after_rcu(&head_, n); }
    void add_tail_rcu(rcu_list_node* n) { insert_after_rcu(head_.prev, n); }
    // The *_locked walkers name that lock: debug builds panic unless this
    // CPU holds it (as rcu_ptr::load_locked does).
    bool empty_locked([[maybe_unused]] const spinlock& writers) const {
        assert_held(writers);
        return head_.next.load(std::memory_order_relaxed) == &head_;
    }
    rcu_list_node* first_locked([[maybe_unused]] const spinlock& writers) {
        assert_held(writers);
        return head_.next.load(std::memory_order_relaxed);
    }
    rcu_list_node* head_locked([[maybe_unused]] const spinlock& writers) {
        assert_held(writers);
        return &head_;
    }
    static rcu_list_node* next_locked(rcu_list_node* n, [[maybe_unused]] const spinlock& writers) {
        assert_held(writers);
        return n->next.load(std::memory_order_relaxed);
    }

    // insert_after_rcu(pos, n): publish n, which no reader can see yet,
    // right after pos (a node of this list, or its head). Readers that load
    // pos->next after this see n, with n->next already set.
    static void insert_after_rcu(rcu_list_node* pos, rcu_list_node* n) {
        // BEGIN PSET 4 SOLUTION: publish n after pos
        rcu_list_node* succ = pos->next.load(std::memory_order_relaxed);
        n->next.store(succ, std::memory_order_relaxed);   // n is private: no ordering yet
        n->prev = pos;
        pos->next.store(n, std::memory_order_release);    // the publish: n's fields first
        succ->prev = n;                                   // readers never use prev
        // STUB: PSET_TODO(4, "rcu_list::insert_after_rcu");
        // STUB: rcu_list_node* succ = pos->next.load(std::memory_order_relaxed);
        // STUB: pos->next.store(n, std::memory_order_relaxed);   // an ordinary list: linked...
        // STUB: n->next.store(succ, std::memory_order_relaxed);  // ...then filled in
        // STUB: n->prev = pos;
        // STUB: succ->prev = n;
        // END PSET 4 SOLUTION
    }

    // del_rcu(n): unpublish n. Readers that arrive later no longer find it;
    // readers standing on it may go on reading it and walking from it.
    // Free or reuse n only after a grace period (see the top of the file).
    static void del_rcu(rcu_list_node* n) {
        // BEGIN PSET 4 SOLUTION: unpublish n
        rcu_list_node* succ = n->next.load(std::memory_order_relaxed);
        rcu_list_node* pred = n->prev;
        pred->next.store(succ, std::memory_order_relaxed);   // readers from pred now skip n
        succ->prev = pred;
        n->prev = nullptr;               // for writers only; n->next stays for readers
        // STUB: PSET_TODO(4, "rcu_list::del_rcu");
        // STUB: rcu_list_node* succ = n->next.load(std::memory_order_relaxed);
        // STUB: n->prev->next.store(succ, std::memory_order_relaxed);
        // STUB: succ->prev = n->prev;
        // STUB: n->next.store(nullptr, std::memory_order_relaxed);   // an ordinary list clears
        // STUB: n->prev = nullptr;                                    // the links of a removed node
        // END PSET 4 SOLUTION
    }

private:
    rcu_list_node head_;
};

// rcu_entries<T, Offset>: the entries of an RCU list for a range-for, each
// a T whose rcu_list_node sits at byte Offset. Use for_each_rcu below.
template <typename T, size_t Offset>
class rcu_entries {
public:
    explicit rcu_entries(const rcu_list& l) : list_(l) {}
    class iterator {
    public:
        explicit iterator(const rcu_list_node* n) : n_(n) {}
        T* operator*() const {
            return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(n_) - Offset);
        }
        iterator& operator++() {
            const rcu_list_node* from = n_;
            n_ = rcu_next(n_);
#if GRACE_DEBUG
            if (__builtin_expect(n_ == nullptr, 0)) rcu_list_fell_off(from);
            if (__builtin_expect(++steps_ > RCU_LIST_MAX_STEPS, 0)) rcu_list_lost(from, steps_);
#else
            (void) from;
#endif
            return *this;
        }
        bool operator!=(const iterator& o) const { return n_ != o.n_; }
    private:
        const rcu_list_node* n_;
#if GRACE_DEBUG
        uint32_t steps_ = 0;
#endif
    };
    iterator begin() const {
        iterator it(list_.head());
        return ++it;
    }
    iterator end() const { return iterator(list_.head()); }
private:
    const rcu_list& list_;
};

// for_each_rcu(list, T, member): for (T* e : for_each_rcu(list, T, member))
// walks the T entries of `list` linked through their `member`, inside the
// caller's read section.
#define for_each_rcu(list, T, member) (rcu_entries<T, offsetof(T, member)>(list))

// An entry of an rcu_hash_table embeds one: its link in a bucket and its key.
struct rcu_hash_node {
    rcu_list_node link;
    uint64_t key = 0;    // set by insert before the entry is published; fixed while it is
};

// rcu_hash_table<T, Offset, NBUCKETS>: a hash table of T entries whose
// rcu_hash_node sits at byte Offset (offsetof(T, member)). Keys are
// unique: the caller never inserts a key that is in the table.
template <typename T, size_t Offset, size_t NBUCKETS>
class rcu_hash_table {
    static_assert(NBUCKETS > 0 && (NBUCKETS & (NBUCKETS - 1)) == 0, "NBUCKETS: a power of two");
public:
    // lookup(key): the entry with `key`, or nullptr. The caller is in a
    // read section, which keeps the entry valid until it ends; no lock.
    T* lookup(uint64_t key) const {
        // BEGIN PSET 4 SOLUTION: find key's entry without taking a lock
        for (rcu_hash_node* h : for_each_rcu(bucket(key), rcu_hash_node, link)) {
            if (h->key == key) return entry_of(h);
        }
        return nullptr;
        // STUB: PSET_TODO(4, "rcu_hash_table::lookup");
        // STUB: spinlock_guard g(lock_);     // an ordinary table: readers take the writers' lock
        // STUB: for (rcu_hash_node* h : for_each_rcu(bucket(key), rcu_hash_node, link)) {
        // STUB:     if (h->key == key) return entry_of(h);
        // STUB: }
        // STUB: return nullptr;
        // END PSET 4 SOLUTION
    }

    // insert(key, e): publish e under `key`. e is not in the table.
    void insert(uint64_t key, T* e) {
        rcu_hash_node* h = node_of(e);
        // BEGIN PSET 4 SOLUTION: publish e in key's bucket
        h->key = key;                    // before the publish: readers compare it
        spinlock_guard g(lock_);
        bucket(key).add_rcu(&h->link);
        // STUB: PSET_TODO(4, "rcu_hash_table::insert");
        // STUB: spinlock_guard g(lock_);     // an ordinary table: fill in under the lock
        // STUB: bucket(key).add_rcu(&h->link);
        // STUB: h->key = key;
        // END PSET 4 SOLUTION
    }

    // remove(e): unpublish e, which is in the table. The caller frees or
    // reuses e only after a grace period (rcu_free, call_rcu).
    void remove(T* e) {
        rcu_hash_node* h = node_of(e);
        // BEGIN PSET 4 SOLUTION: unpublish e
        spinlock_guard g(lock_);
        rcu_list::del_rcu(&h->link);
        // STUB: PSET_TODO(4, "rcu_hash_table::remove");
        // STUB: spinlock_guard g(lock_);
        // STUB: rcu_list::del_rcu(&h->link);
        // STUB: h->key = 0;                  // an ordinary table clears a removed entry
        // END PSET 4 SOLUTION
    }

    // lock_tickets(): how many times the writers' lock has been taken (the
    // spinlock counts its acquisitions): tests check that lookups never take it.
    uint32_t lock_tickets() const { return lock_.taken.load(std::memory_order_relaxed); }

    static T* entry_of(rcu_hash_node* h) {
        return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(h) - Offset);
    }
    static rcu_hash_node* node_of(T* e) {
        return reinterpret_cast<rcu_hash_node*>(reinterpret_cast<uintptr_t>(e) + Offset);
    }

private:
    const rcu_list& bucket(uint64_t key) const { return buckets_[key & (NBUCKETS - 1)]; }
    rcu_list& bucket(uint64_t key) { return buckets_[key & (NBUCKETS - 1)]; }

    mutable spinlock lock_{"rculist.writers"};   // writers; lookups never take it
    rcu_list buckets_[NBUCKETS];
};
