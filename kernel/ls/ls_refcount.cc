// kernel/ls/ls_refcount.cc: LS_REFCOUNT, reference counts with "the eraser"'s
// timestamp-sorted deferred-deletion list.
//
// The algorithm. Readers: take the structure's spinlock `lock`, find the
// current struct, add one to its reference count (an atomic increment),
// drop the lock, checksum, and drop the reference (an atomic decrement,
// release). A reader may sleep or be preempted while it holds a reference.
// Writers (serialized by `writers`) copy the current struct and change the
// copy; then, under `lock`, the eraser unlinks the old struct (publishes
// the new one), stamps it with the removal time and appends it to the
// deferred-deletion list. Appending the current time keeps the list
// sorted, oldest first, with no search. Still under `lock`, the eraser
// walks the list from the head: an object older than ERASE_DELAY_NS whose
// count is zero is freed (after the lock is dropped); an old enough one
// that is still referenced is re-stamped and re-queued at the tail; the
// walk stops at the first object that is too young. Reclamation runs only
// in writer context, on every write.
//
// Why it is safe: a reference is only ever taken under `lock` on the
// object that is current at that moment, and the eraser unlinks the object
// under the same lock, so once an object is on the list its count can only
// go down. A count read as zero (acquire, pairing with the readers'
// release decrement) therefore stays zero, and every reader's loads are
// finished. (The delay is the original design's margin for readers that
// find the object without the lock; here it also batches the work: each
// write looks only at the head of the list.)
//
// Memory bound: the structs removed in the last ERASE_DELAY_NS plus those
// still referenced. A sleeping reader pins exactly one struct.
//
// Against RCU. Every read writes two shared cache lines (the lock and the
// count) and serializes briefly on the lock, so readers do not scale the
// way RCU readers do, and a writer holding `lock` stalls them. In exchange
// readers may sleep, a stalled reader pins one struct (RCU's pins them
// all), and reclamation needs nothing from other CPUs: no grace period.
#include "ls.hh"
#include "spinlock.hh"
#include "apic.hh"
#include "sched.hh"

namespace {
constexpr uint64_t ERASE_DELAY_NS = 2000000;    // 2 ms

// Statistics (the registry's `waiting` and `kept_for_reader`, and GDB).
std::atomic<long> waiting{0};          // structs on the deferred list
std::atomic<uint64_t> freed{0};        // structs freed by the eraser
std::atomic<uint64_t> requeued{0};     // old enough but referenced: re-queued

struct node {
    largestruct ls;
    std::atomic<long> refs{0};      // readers holding it
    uint64_t removed_at = 0;        // clock_ns() when unlinked (or re-queued)
    node* next = nullptr;           // deferred-deletion list
    // Only a struct on the deferred list is ever freed: one fewer waits.
    ~node() { waiting.fetch_sub(1, std::memory_order_relaxed); }
};

spinlock writers{"ls.writers"};    // serializes writers (the copy)
spinlock lock{"ls.inner"};         // guards current_ls and the deferred list
node* current_ls = nullptr;
node* deferred_head = nullptr;      // oldest first
node** deferred_tail = &deferred_head;

void append_deferred(node* n, uint64_t now) {
    n->removed_at = now;
    n->next = nullptr;
    *deferred_tail = n;
    deferred_tail = &n->next;
}

// erase(now): the eraser's walk (caller holds `lock`). Returns the objects
// to free, linked through `next`; the caller frees them after unlocking.
node* erase(uint64_t now) {
    node* to_free = nullptr;
    while (deferred_head && now - deferred_head->removed_at >= ERASE_DELAY_NS) {
        node* n = deferred_head;
        deferred_head = n->next;
        if (!deferred_head) deferred_tail = &deferred_head;
        if (n->refs.load(std::memory_order_acquire) == 0) {
            n->next = to_free;
            to_free = n;
        } else {
            append_deferred(n, now);   // stamped `now`: the walk stops at it
            requeued.fetch_add(1, std::memory_order_relaxed);
        }
    }
    return to_free;
}

void free_list(node* n) {
    uint64_t count = 0;
    while (n) {
        node* next = n->next;
        assert(n->refs.load(std::memory_order_relaxed) == 0);
        delete n;
        n = next;
        ++count;
    }
    freed.fetch_add(count, std::memory_order_relaxed);
}

// get(): a counted reference to the current struct; put() drops it.
node* get() {
    spinlock_guard g(lock);
    node* n = current_ls;
    n->refs.fetch_add(1, std::memory_order_relaxed);   // ordered by the lock
    return n;
}
void put(node* n) {
    long before = n->refs.fetch_sub(1, std::memory_order_release);
    assert(before > 0);
}

// ref_guard: holds a reference for its scope.
class ref_guard {
public:
    ref_guard() : n_(get()) {}
    ~ref_guard() { put(n_); }
    ref_guard(const ref_guard&) = delete;
    ref_guard& operator=(const ref_guard&) = delete;
    const node* get_node() const { return n_; }
private:
    node* n_;
};

void init() { current_ls = ls_new_copy<node>(nullptr, nullptr, 0); }

long refcount_read(size_t len) {
    ref_guard r;
    return long(ls_checksum(r.get_node()->ls.c, len));
}

long refcount_write(const char* data, size_t len) {
    spinlock_guard w(writers);
    node* n = ls_new_copy(current_ls, data, len);   // current_ls only changes under `writers`
    if (!n) return -ENOMEM;
    node* to_free;
    {
        spinlock_guard g(lock);
        node* old = current_ls;
        current_ls = n;
        uint64_t now = clock_ns();
        append_deferred(old, now);
        waiting.fetch_add(1, std::memory_order_relaxed);
        to_free = erase(now);
    }
    free_list(to_free);
    return 0;
}

// held_read: one read holding its reference while while_held(arg) runs
// (which may sleep); see ls_held_read_fn.
void held_read(size_t len, void (*while_held)(void*), void* arg, uint64_t* before, uint64_t* after) {
    ref_guard r;
    *before = ls_checksum(r.get_node()->ls.c, len);
    while_held(arg);
    *after = ls_checksum(r.get_node()->ls.c, len);
}

// settle(): wait out the eraser's delay, then run it without a write: with
// no reader it empties the deferred list.
void settle() {
    msleep(ERASE_DELAY_NS / 1000000 + 3);
    node* to_free;
    {
        spinlock_guard w(writers);
        spinlock_guard g(lock);
        to_free = erase(clock_ns());
    }
    free_list(to_free);
}

constexpr ls_scheme scheme = {
    .id = LS_REFCOUNT,
    .name = "refcount",
    .init = init,
    .read = refcount_read,
    .write = refcount_write,
    .current = ls_current_pointer<node>(current_ls),
    .waiting = &waiting,
    .waiting_what = "structs on the eraser's deferred list (freed once old enough and unreferenced)",
    .held_read = held_read,
    .held_read_may_sleep = true,
    .kept_for_reader = &requeued,
    .settle = settle,
};
LS_SCHEME(scheme);
}
