// kernel/ls/ls_lopsided.cc: LS_LOPSIDED, the real-time "lopsided" manager:
// readers never block, allocate or free; all the waiting and all the
// freeing is the writer's.
//
// The algorithm. Each CPU has a reader sequence counter, on its own cache
// line: odd while a reader on that CPU is inside its section. A reader
// disables preemption (so at most one reader per CPU is ever inside: no
// nesting, none in interrupt handlers), increments its CPU's counter with
// an atomic fetch_add (seq_cst: the announcement is ordered before the
// pointer load), loads the pointer, checksums, and increments the counter
// again (a release store: only this CPU writes it). A fixed number of
// instructions: wait-free, whatever the writers do.
// A writer, serialized by `writers` only for the copy and the atomic
// exchange of the pointer, then waits for the readers that might hold the
// old struct: it snapshots every CPU's counter and spins until each one is
// even in the snapshot or has changed since (the reader that was inside
// has left). Then it frees the old struct itself, in writer context.
// Because one change of the counter suffices, a steady stream of readers
// on a CPU cannot starve the writer (unlike waiting to see the counter at
// zero). The writer spins preemptibly, so on a shared CPU readers still
// run; concurrent writers each wait for their own old struct.
//
// Why it is safe (the exchange, the counter RMWs and the writer's counter
// loads are all seq_cst): if the writer's snapshot of CPU c reads a value
// from before a reader's entry increment, that increment, and the reader's
// pointer load after it, come after the writer's exchange in the single
// seq_cst order, so the reader gets the new pointer. Otherwise the writer
// waits for the counter to move past the reader's exit store, whose
// release orders the reader's checksum before the writer's free.
//
// Memory bound: one old struct per writer in progress; nothing is
// deferred. Readers must not sleep (preemption is off in the section).
//
// Against RCU. Readers here write their CPU's counter twice, once with a
// locked instruction (RCU readers write nothing shared and use no atomic),
// and must not sleep, like RCU's. The writer waits only for the readers
// that are inside right now, which is microseconds, not for every CPU to
// pass through the scheduler (a grace period, milliseconds); and nothing
// is ever deferred, so memory use is exact and reclamation is synchronous.
// The price is that the writer burns CPU while it waits.
#include "ls.hh"
#include "proc.hh"
#include "spinlock.hh"
#include "apic.hh"

namespace {
// Statistics (the registry's `waiting`, and GDB).
std::atomic<long> waiting{0};               // old structs whose writers wait for readers
std::atomic<uint64_t> wait_ns_max{0};       // a writer's longest wait for readers

struct node {
    largestruct ls;
};

struct alignas(64) reader_counter {
    std::atomic<uint64_t> seq{0};     // odd: a reader is inside on this CPU
};
reader_counter readers[MAXCPU];

std::atomic<node*> current_ls{nullptr};
spinlock writers{"ls.writers"};

// reader_section: the reader's side for its scope (preemption off).
class reader_section {
public:
    reader_section() {
        preempt_disable();
        counter_ = &readers[this_cpu()->index].seq;
        uint64_t before = counter_->fetch_add(1, std::memory_order_seq_cst);
        assert((before & 1) == 0);    // no nesting, no reader in an interrupt
        n_ = current_ls.load(std::memory_order_seq_cst);
    }
    ~reader_section() {
        counter_->store(counter_->load(std::memory_order_relaxed) + 1, std::memory_order_release);
        preempt_enable();
    }
    reader_section(const reader_section&) = delete;
    reader_section& operator=(const reader_section&) = delete;
    const node* get() const { return n_; }
private:
    std::atomic<uint64_t>* counter_;
    const node* n_;
};

// wait_for_readers(): return once every reader that was inside its
// section when this is called has left it.
void wait_for_readers() {
    uint64_t snap[MAXCPU];
    for (int i = 0; i < ncpu; ++i) snap[i] = readers[i].seq.load(std::memory_order_seq_cst);
    uint64_t t0 = clock_ns();
    for (int i = 0; i < ncpu; ++i) {
        if ((snap[i] & 1) == 0) continue;
        while (readers[i].seq.load(std::memory_order_acquire) == snap[i]) cpu_relax();
    }
    uint64_t waited = clock_ns() - t0;
    uint64_t prev = wait_ns_max.load(std::memory_order_relaxed);
    while (waited > prev && !wait_ns_max.compare_exchange_weak(prev, waited)) {}
}

void init() { current_ls.store(ls_new_copy<node>(nullptr, nullptr, 0), std::memory_order_relaxed); }

long lopsided_read(size_t len) {
    reader_section r;
    return long(ls_checksum(r.get()->ls.c, len));
}

long lopsided_write(const char* data, size_t len) {
    node* old;
    {
        spinlock_guard g(writers);
        node* n = ls_new_copy(current_ls.load(std::memory_order_relaxed), data, len);
        if (!n) return -ENOMEM;
        old = current_ls.exchange(n, std::memory_order_seq_cst);
    }
    waiting.fetch_add(1, std::memory_order_relaxed);
    wait_for_readers();
    delete old;
    waiting.fetch_sub(1, std::memory_order_relaxed);
    return 0;
}

// held_read: one read section that stays open while while_held(arg) runs
// (which must not sleep: preemption is off); see ls_held_read_fn.
void held_read(size_t len, void (*while_held)(void*), void* arg, uint64_t* before, uint64_t* after) {
    reader_section r;
    *before = ls_checksum(r.get()->ls.c, len);
    while_held(arg);
    *after = ls_checksum(r.get()->ls.c, len);
}

constexpr ls_scheme scheme = {
    .id = LS_LOPSIDED,
    .name = "lopsided",
    .init = init,
    .read = lopsided_read,
    .write = lopsided_write,
    .current = ls_current_pointer<node>(current_ls),
    .waiting = &waiting,
    .waiting_what = "old structs whose writers wait for the readers inside to leave (nothing is deferred)",
    .held_read = held_read,
    .held_read_may_sleep = false,
};
LS_SCHEME(scheme);
}
