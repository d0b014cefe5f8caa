// kernel/ls/ls_diffref.cc: LS_DIFFREF, differential ("strongly thread-safe")
// reference counting: a reader can take a reference to whatever the shared
// pointer names without any lock, even while a writer replaces it.
//
// The algorithm. The shared "strong pointer" is one 64-bit atomic word: the
// low 48 bits of the struct's address and a 16-bit OUTER count on top.
// Every x86-64 address is canonical (bits 63..47 all equal: kernel
// direct-map ones are 0xffff8000_xxxxxxxx, a host build's are below
// 2^47), so the pointer is rebuilt by sign-extending bit 47. Each struct
// also has an INNER count.
//  - Acquire (reader): word.fetch_add(1 << 48): one atomic instruction
//    both reads the pointer and counts the reader against it. Wait-free.
//  - Release (reader): if the word still names the struct, give the
//    count back where it was taken: CAS the outer count down by one.
//    Otherwise (a writer has swapped the pointer) decrement the struct's
//    inner count; whoever brings it to zero frees the struct. Lock-free
//    (the CAS retries only when another reader changed the word).
//  - Replace (writer, serialized by `writers`): exchange the word for
//    (new struct, outer 0), then transfer the old word's outer count to the
//    old struct: inner += outer. If that makes inner zero, free it.
//
// Why the struct is freed exactly once, and only when no reader holds it.
// inner starts at 0. Before the swap, every release finds the pointer
// unchanged and goes to the outer count, so inner stays exactly 0 and no
// one can see it "reach" zero. At the swap, the outer count taken is the
// number n of readers that acquired and have not released: exactly the
// readers still holding the struct (every acquire and every outer release
// is an RMW on the word, so the exchange sees all of them, in order). From
// then on the struct is unreachable (no new acquires), and its inner count
// receives exactly n decrements of 1 and one increment of n, in some
// order. The partial sums are: -k before the increment (k < n, never 0 for
// k > 0), and n - k after it, which is 0 only when k = n, the last
// operation. So the value 0 is produced by exactly one operation, the
// last one: if n = 0 the writer's own add frees it at once. All these are
// acq_rel RMWs, so every reader's loads happen before the free. A release
// that finds the word still naming its struct cannot be fooled by an ABA
// reuse of the address: the releasing reader's own reference keeps that
// struct allocated. The outer count counts readers currently holding
// (releases give it back), so 16 bits allow 65535 concurrent readers.
//
// Against RCU. Readers do an atomic RMW on one shared cache line on each
// acquire and each release (a contended line, like a reader-writer lock),
// where RCU readers write nothing shared. In exchange readers may sleep
// while holding a reference, the last reader frees the struct the moment
// it is done (no grace period, no deferred list: memory is exactly the
// structs still held), and no lock is taken anywhere on the read side.
#include "ls.hh"
#include "spinlock.hh"

namespace {
// Old structs swapped out and not yet freed: readers still hold them (the
// registry's `waiting`; the self-test checks it returns to 0).
std::atomic<long> waiting{0};

constexpr int PTR_BITS = 48;
constexpr uint64_t PTR_MASK = (uint64_t(1) << PTR_BITS) - 1;
constexpr uint64_t ONE_OUTER = uint64_t(1) << PTR_BITS;
constexpr uint64_t MAX_OUTER = 0xffff;

struct node {
    largestruct ls;
    std::atomic<int64_t> inner{0};
};

uint64_t pack(node* p, uint64_t outer) {
    uint64_t a = reinterpret_cast<uint64_t>(p);
    assert((a >> 47) == 0 || (a >> 47) == 0x1ffff);   // canonical: unpack_ptr rebuilds it
    return (a & PTR_MASK) | (outer << PTR_BITS);
}
node* unpack_ptr(uint64_t w) { return reinterpret_cast<node*>(int64_t(w << 16) >> 16); }
uint64_t unpack_outer(uint64_t w) { return w >> PTR_BITS; }

std::atomic<uint64_t> strong_ptr{0};
spinlock writers{"ls.writers"};

// free_node(n): free a swapped-out struct (the current one never is).
void free_node(node* n) {
    delete n;
    waiting.fetch_sub(1, std::memory_order_relaxed);
}

// drop_inner(n, delta): add delta to n's inner count; free n if that made
// it zero (see the top comment: that happens exactly once).
void drop_inner(node* n, int64_t delta) {
    if (n->inner.fetch_add(delta, std::memory_order_acq_rel) + delta == 0) free_node(n);
}

node* acquire() {
    uint64_t w = strong_ptr.fetch_add(ONE_OUTER, std::memory_order_acq_rel);
    assert(unpack_outer(w) < MAX_OUTER);   // 65535 concurrent readers at most
    return unpack_ptr(w);
}

void release(node* n) {
    uint64_t w = strong_ptr.load(std::memory_order_relaxed);
    while (unpack_ptr(w) == n) {
        assert(unpack_outer(w) > 0);       // our own acquire is still counted there
        if (strong_ptr.compare_exchange_weak(w, w - ONE_OUTER, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
            return;
        }
    }
    drop_inner(n, -1);                     // swapped out: the writer moved our count inside
}

// strong_ref: a counted reference for its scope.
class strong_ref {
public:
    strong_ref() : n_(acquire()) {}
    ~strong_ref() { release(n_); }
    strong_ref(const strong_ref&) = delete;
    strong_ref& operator=(const strong_ref&) = delete;
    const node* get() const { return n_; }
private:
    node* n_;
};

void init() {
    strong_ptr.store(pack(ls_new_copy<node>(nullptr, nullptr, 0), 0), std::memory_order_relaxed);
}

long diffref_read(size_t len) {
    strong_ref r;
    return long(ls_checksum(r.get()->ls.c, len));
}

long diffref_write(const char* data, size_t len) {
    node* old;
    uint64_t outer;
    {
        spinlock_guard g(writers);
        // Under `writers` the pointer bits cannot change: the old struct is
        // safe to copy (its inner count cannot reach zero before the swap).
        node* cur = unpack_ptr(strong_ptr.load(std::memory_order_acquire));
        node* n = ls_new_copy(cur, data, len);
        if (!n) return -ENOMEM;
        uint64_t w = strong_ptr.exchange(pack(n, 0), std::memory_order_acq_rel);
        old = unpack_ptr(w);
        outer = unpack_outer(w);
        assert(old == cur);
    }
    waiting.fetch_add(1, std::memory_order_relaxed);   // before anyone can free it
    drop_inner(old, int64_t(outer));
    return 0;
}

// held_read: one read holding its reference while while_held(arg) runs
// (which may sleep); see ls_held_read_fn.
void held_read(size_t len, void (*while_held)(void*), void* arg, uint64_t* before, uint64_t* after) {
    strong_ref r;
    *before = ls_checksum(r.get()->ls.c, len);
    while_held(arg);
    *after = ls_checksum(r.get()->ls.c, len);
}

constexpr ls_scheme scheme = {
    .id = LS_DIFFREF,
    .name = "diffref",
    .init = init,
    .read = diffref_read,
    .write = diffref_write,
    .current = ls_current_pointer48<node>(strong_ptr),
    .waiting = &waiting,
    .waiting_what = "old structs still held by readers (nothing is deferred: the last reader frees each)",
    .held_read = held_read,
    .held_read_may_sleep = true,
};
LS_SCHEME(scheme);
}
