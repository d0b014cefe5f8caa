// kernel/ls/ls_hazptr.cc: LS_HAZPTR, hazard pointers (Michael, 2004).
//
// The algorithm. A reader owns a hazard slot for the length of its read.
// To protect the current struct it loads the pointer, publishes it in its
// slot, makes that store visible (see "the two variants"), then loads the
// pointer again: if it changed, a writer may already have missed the
// hazard, so the reader publishes the new value and tries again; if it is
// unchanged, the struct is protected until the reader clears its slot. A
// writer (serialized by `writers`) copies the current struct, changes the
// copy and publishes it; the old one goes on the retire list. When that
// list reaches SCAN_THRESHOLD (2 x NSLOTS) objects the writer detaches it
// and scans: it collects every non-null hazard, frees each retired object
// that no slot names, and puts the rest back. At most NSLOTS objects can be
// hazardous at once, so a scan frees at least half its batch and memory
// stays bounded: SCAN_THRESHOLD + NSLOTS structs per concurrent scanner.
//
// Slots are per task, not per CPU: a reader here may be preempted or sleep
// while protected (kernel/ktest/ktest_schemes.cc's hazptr-sleep). There are
// NSLOTS slots, each on its own cache line; CPU c hands out the slots in
// [c*per, (c+1)*per), per = NSLOTS/ncpu. Only tasks on CPU c, with
// preemption disabled, ever claim a slot there (a plain load and store:
// no atomic read-modify-write); any CPU may free one (a release store),
// since the owner may have migrated. A CPU whose slots are all taken (by
// sleeping readers) makes the next reader yield until one is freed.
//
// The two variants.
// BEGIN PSET 3 EXPLANATION
// - Symmetric (default): store hazard; std::atomic_thread_fence(seq_cst);
//   reload. The scanner runs a seq_cst fence after publishing the new
//   pointer and before reading the slots. Dekker's argument: either the
//   reader's reload sees the new pointer (it retries and never uses the
//   retired one), or the scanner's slot read sees the hazard (it keeps the
//   object). The reader pays one full fence (mfence, ~30-100 cycles).
// - Asymmetric (boot option hazptr_asym=1): the reader's fence becomes a
//   compiler-only barrier (atomic_signal_fence), and the scanner instead
//   forces a full barrier on every other CPU with an IPI (membarrier_all()
//   in apic.cc): the INT_IPI_BARRIER handler does a locked fetch_add of
//   cpu::barrier_acks, which drains that CPU's store buffer, and the
//   scanner waits until it sees every CPU's counter move.
//   Why that is correct (x86-TSO: the only reordering is a store passing a
//   later load, i.e. the hazard store may still sit in the store buffer
//   when the reload runs). Let t0 be when the scanner's exchange of the
//   pointer (a locked instruction) became globally visible; the IPIs are
//   sent after t0. The danger is a reader R whose reload returned the old
//   pointer p (so the reload ran before t0) while its hazard store is not
//   yet visible when the scanner reads the slots. R's store was executed
//   before its reload, so before t0, on some CPU X. (a) If X is another
//   CPU, X runs the IPI handler after t0; its locked fetch_add cannot
//   complete before every earlier store of X, R's included, is visible,
//   and the scanner reads the slots only after it has seen that fetch_add.
//   (b) If X is the scanner's own CPU, R was switched out before the
//   scanner ran there, and a context switch takes spinlocks (locked
//   instructions), so the store was visible before t0. (c) A reader whose
//   reload runs after t0 sees the new pointer and retries. So either R
//   retries or the scanner sees p in R's slot. A reader that sleeps while
//   protected went through a context switch: its store is long visible.
//   Cost moves from every read (no fence at all) to every scan (ncpu-1
//   IPIs, once per SCAN_THRESHOLD writes).
//   Why the scanner cannot simply mark slots instead (e.g. fetch_or a low
//   bit into each slot and have a reader that finds the mark take a fenced
//   slow path): the reader's hazard store overwrites the mark, and the
//   reader never reads its slot back from memory (it would get its own
//   buffered store), so the mark is lost exactly in the race above. Some
//   operation must drain the reader's store buffer between its store and
//   the scanner's slot read: the reader's own fence, or the IPI.
// STUB: // - Symmetric (default): the reader pays, on every read, for making its
// STUB: //   hazard visible before it loads the pointer again.
// STUB: // - Asymmetric (boot option hazptr_asym=1): the reader's barrier is a
// STUB: //   compiler-only one; instead, the scanner makes every other CPU run a
// STUB: //   full barrier, with an IPI (membarrier_all() in apic.cc).
// STUB: // Which barrier goes where, and why each variant is correct, is pset 3
// STUB: // (psets/3-hazard-pointers.md).
// END PSET 3 EXPLANATION
//
// BEGIN PSET 3 EXPLANATION
// Against RCU. RCU readers write nothing shared and need no fence; any
// reader anywhere delays every free. Hazard-pointer readers write their
// slot and (symmetric) fence on every read, and may retry; in exchange a
// reader that sleeps or stalls pins only the one struct it protects, the
// memory bound holds whatever readers do, and frees need no grace period
// (no dependency on every CPU passing through the scheduler).
// STUB: // Against RCU: pset 3's measurements and write-up.
// END PSET 3 EXPLANATION
#include "ls.hh"
#include "proc.hh"
#include "apic.hh"
#include "spinlock.hh"

namespace {
constexpr int NSLOTS = 256;
constexpr int SCAN_THRESHOLD = 2 * NSLOTS;
static_assert(NSLOTS >= MAXCPU, "every CPU needs at least one hazard slot");

// Statistics (the registry's `waiting` and `kept_for_reader`, and GDB).
std::atomic<long> waiting{0};          // retired structs not yet freed
std::atomic<uint64_t> scans{0};        // scans run
std::atomic<uint64_t> freed{0};        // retired structs freed
std::atomic<uint64_t> kept{0};         // kept by a scan because hazardous

struct node {
    largestruct ls;
    node* retired_next = nullptr;
    // Only a retired struct is ever freed: one fewer waits.
    ~node() { waiting.fetch_sub(1, std::memory_order_relaxed); }
};

// The self-tests' hooks (debug builds; kernel/ktest/ktest_schemes.cc) sit
// in the two words every reader uses, so that they see any protect():
//  - hazard_word: a hazard store may be held back as if in this CPU's
//    store buffer until the CPU's next full barrier, smp_mb() or an IPI
//    (store_buffer_hold, apic.hh; ktest hazptr-store-buffer);
//  - current_word: a reader's load of the current pointer may be held
//    open, on the CPU a test arms, while writers on another CPU replace
//    the struct it returned and scan (ktest hazptr-reload).
// Both behave as the std::atomic they wrap otherwise.
std::atomic<int> load_window_cpu{-1};      // the armed CPU, -1: none
void (*load_window_fn)(void*, const void*) = nullptr;
void* load_window_arg = nullptr;

// open_load_window(p): on the armed CPU, disarm and run the test's function
// on the node pointer p that was just loaded.
[[maybe_unused]] void open_load_window(const void* p) {
    int armed = this_cpu_index();
    if (load_window_cpu.compare_exchange_strong(armed, -1)) load_window_fn(load_window_arg, p);
}

// arm_load_window(cpu, fn, arg): the next load of the current pointer on
// `cpu` runs fn(arg, loaded) before it returns (the registry's hook).
void arm_load_window(int cpu, void (*fn)(void*, const void*), void* arg) {
    load_window_fn = fn;
    load_window_arg = arg;
    load_window_cpu.store(cpu);
}

struct hazard_word {
    std::atomic<const node*> word{nullptr};
    // A seq_cst store is a locked instruction on x86: it drains the buffer.
    void store(const node* p, std::memory_order order = std::memory_order_seq_cst) {
        if (order == std::memory_order_seq_cst) {
            store_buffer_drain();
            word.store(p, order);
        } else if (!store_buffer_hold(word, p)) {
            word.store(p, order);
        }
    }
    const node* exchange(const node* p, std::memory_order order = std::memory_order_seq_cst) {
        store_buffer_drain();
        return word.exchange(p, order);
    }
    const node* load(std::memory_order order = std::memory_order_seq_cst) const {
        return word.load(order);
    }
};

struct current_word {
    std::atomic<node*> word{nullptr};
    node* load(std::memory_order order = std::memory_order_seq_cst) const {
        node* p = word.load(order);
#if GRACE_DEBUG
        if (__builtin_expect(load_window_cpu.load(std::memory_order_relaxed) >= 0, 0)) {
            open_load_window(p);
        }
#endif
        return p;
    }
    operator node*() const { return load(); }
    void store(node* p, std::memory_order order = std::memory_order_seq_cst) { word.store(p, order); }
    node* exchange(node* p, std::memory_order order = std::memory_order_seq_cst) {
        return word.exchange(p, order);
    }
};

// One slot per cache line: readers on different CPUs write different lines.
struct alignas(64) hazard_slot {
    hazard_word hazard;                         // what the owner protects
    std::atomic<bool> owned{false};             // claimed by a reader
};
hazard_slot slots[NSLOTS];

current_word current_ls;
spinlock writers{"ls.writers"};       // serializes writers: copy + publish
spinlock retire_lock{"ls.inner"};     // guards `retired` and `nretired`
node* retired = nullptr;
int nretired = 0;

// claim_slot(): a free slot in this CPU's range; yields while none is free.
int claim_slot() {
    for (;;) {
        {
            preempt_guard g;
            int per = NSLOTS / ncpu;
            int first = this_cpu()->index * per;
            for (int i = first; i < first + per; ++i) {
                // Only this CPU claims in this range, with preemption off,
                // and no interrupt handler reads largestructs: no race.
                if (!slots[i].owned.load(std::memory_order_acquire)) {
                    slots[i].owned.store(true, std::memory_order_relaxed);
                    return i;
                }
            }
        }
        yield();
    }
}

// hazard_guard: owns one slot for its scope; protect() returns the current
// struct, which stays allocated until the guard is destroyed.
class hazard_guard {
public:
    hazard_guard() : slot_(slots[claim_slot()]) {}
    ~hazard_guard() {
        store_buffer_drain();     // (a held hazard store comes first; apic.hh)
        slot_.hazard.store(nullptr, std::memory_order_release);   // done reading
        slot_.owned.store(false, std::memory_order_release);
    }
    hazard_guard(const hazard_guard&) = delete;
    hazard_guard& operator=(const hazard_guard&) = delete;

    const node* protect() {
        // BEGIN PSET 3 SOLUTION: publish a hazard on the current struct, then make sure it is still current
        const node* p = current_ls.load(std::memory_order_acquire);
        for (;;) {
            slot_.hazard.store(p, std::memory_order_relaxed);
            if (kopts.hazptr_asym) {
                std::atomic_signal_fence(std::memory_order_seq_cst);
            } else {
                smp_mb();
            }
            const node* q = current_ls.load(std::memory_order_acquire);
            if (q == p) return p;
            p = q;                // replaced meanwhile: protect the new one
        }
        // STUB: PSET_TODO(3, "hazard_guard::protect");
        // STUB: return current_ls.load(std::memory_order_acquire);   // unprotected
        // END PSET 3 SOLUTION
    }
private:
    hazard_slot& slot_;
};

// scan(batch): free every object of `batch` that no hazard slot names;
// put the others back on the retire list. Runs in writer context, with no
// lock held and interrupts enabled.
void scan(node* batch) {
    const node* hazards[NSLOTS];
    int nhazards = 0;
    // BEGIN PSET 3 SOLUTION: collect every published hazard (after the barrier your argument needs)
    if (kopts.hazptr_asym) membarrier_all();
    else std::atomic_thread_fence(std::memory_order_seq_cst);
    for (hazard_slot& s : slots) {
        if (const node* h = s.hazard.load(std::memory_order_acquire)) hazards[nhazards++] = h;
    }
    // STUB: PSET_TODO(3, "scan");    // no hazards collected: everything is freed
    // END PSET 3 SOLUTION
    node* keep = nullptr;
    node** keep_tail = &keep;
    int nkeep = 0;
    uint64_t nfreed = 0;
    while (batch) {
        node* n = batch;
        batch = n->retired_next;
        bool hazardous = false;
        for (int i = 0; i < nhazards && !hazardous; ++i) hazardous = hazards[i] == n;
        if (hazardous) {
            n->retired_next = nullptr;
            *keep_tail = n;
            keep_tail = &n->retired_next;
            ++nkeep;
        } else {
            delete n;
            ++nfreed;
        }
    }
    assert(nkeep <= NSLOTS);
    if (keep) {
        spinlock_guard g(retire_lock);
        *keep_tail = retired;
        retired = keep;
        nretired += nkeep;
    }
    scans.fetch_add(1, std::memory_order_relaxed);
    freed.fetch_add(nfreed, std::memory_order_relaxed);
    kept.fetch_add(nkeep, std::memory_order_relaxed);
}

// retire(old): queue `old` for freeing; scan when the list is long.
void retire(node* old) {
    waiting.fetch_add(1, std::memory_order_relaxed);
    node* batch = nullptr;
    {
        spinlock_guard g(retire_lock);
        old->retired_next = retired;
        retired = old;
        if (++nretired >= SCAN_THRESHOLD) {
            batch = retired;
            retired = nullptr;
            nretired = 0;
        }
    }
    if (batch) scan(batch);
}

void init() { current_ls.store(ls_new_copy<node>(nullptr, nullptr, 0), std::memory_order_relaxed); }

long hazptr_read(size_t len) {
    hazard_guard g;
    const node* n = g.protect();
    return long(ls_checksum(n->ls.c, len));
}

// drain(): scan the whole retire list now.
void drain() {
    node* batch;
    {
        spinlock_guard g(retire_lock);
        batch = retired;
        retired = nullptr;
        nretired = 0;
    }
    scan(batch);
}

// hazptr_write: copy and publish under `writers`, retire the old struct.
// When memory is short the retire list (up to SCAN_THRESHOLD structs of
// 16 KiB) may be what holds it: scan it all now and try once more before
// giving up with -ENOMEM.
long hazptr_write(const char* data, size_t len) {
    for (int attempt = 0;; ++attempt) {
        node* old;
        {
            spinlock_guard g(writers);
            old = current_ls.load(std::memory_order_relaxed);
            node* n = ls_new_copy(old, data, len);
            if (n) {
                old = current_ls.exchange(n, std::memory_order_seq_cst);
            } else if (attempt > 0) {
                return -ENOMEM;
            } else {
                old = nullptr;
            }
        }
        if (old) {
            retire(old);
            return 0;
        }
        drain();
    }
}

// held_read: one protected read that stays open while while_held(arg)
// runs (which may sleep); see ls_held_read_fn.
void held_read(size_t len, void (*while_held)(void*), void* arg, uint64_t* before, uint64_t* after) {
    hazard_guard g;
    const node* n = g.protect();
    *before = ls_checksum(n->ls.c, len);
    while_held(arg);
    *after = ls_checksum(n->ls.c, len);
}

constexpr ls_scheme scheme = {
    .id = LS_HAZPTR,
    .name = "hazptr",
    .init = init,
    .read = hazptr_read,
    .write = hazptr_write,
    .current = ls_current_pointer<node>(current_ls),
    .waiting = &waiting,
    .waiting_what = "retired structs waiting for the next scan of the hazard slots",
    .held_read = held_read,
    .held_read_may_sleep = true,
    .kept_for_reader = &kept,
    .arm_load_window = arm_load_window,
    .settle = drain,            // with no reader, frees every retired struct
};
LS_SCHEME(scheme);
}
