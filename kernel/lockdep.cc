// kernel/lockdep.cc: the lock checker of debug builds ("lockdep-lite",
// after Linux's lockdep), might_sleep, and this_cpu()'s check.
//
// LOCK CLASSES. A spinlock's name is its class (spinlock.hh): every CPU's
// run-queue lock is one class "runq_lock", every wait queue's lock one
// class "wait_queue.lock". A class is registered the first time a lock of
// it is taken; a lock without a name is a class of its own.
//
// WHAT IS CHECKED, at every acquisition and release (debug builds only):
//  - ownership: each lock records the CPU holding it. Taking a lock this
//    CPU already holds (it would spin forever) or releasing one it does
//    not hold panics, naming the lock and the function (as xv6's
//    holding() does).
//  - THE LOCK ORDER: LOCK_ORDER at the top of kernel/sched.cc ranks the
//    classes. Taking a lock while holding one of a class ranked at or
//    after it panics at once, before any deadlock has a chance to happen:
//    so the written order stays true, and a new nesting that contradicts
//    it is found the first time it runs. Two locks of one class at once
//    are refused the same way; try_lock is exempt (it cannot deadlock),
//    which is how steal_work takes a second run-queue lock.
//  - the first-seen order of every nested pair: for classes the table
//    does not rank (a self-test's own locks), the first time a CPU takes
//    B while holding A is recorded with both call sites; taking A while
//    holding B later, on any CPU, panics printing both orders' call sites.
//    That is the ABBA deadlock, found even when the two orders never ran
//    at the same time.
//  - assert_held(l) in the `*_locked` functions, and
//    rcu_ptr::load_locked(l): the lock is held by this CPU.
// Each CPU keeps a stack of the locks it holds (spinlocks disable
// preemption, so a held lock never moves to another CPU). The bookkeeping
// runs with interrupts off, so an interrupt handler's locks stack on top
// of the interrupted code's.
//
// might_sleep and this_cpu()'s check are in every build; the first names
// the spinlock held in debug builds.
#include "lockdep.hh"
#include "cpu.hh"
#include "sched.hh"

namespace {
std::atomic<bool> stopped{false};

// describe(pc, buf, n): "function" for a code address, into buf.
const char* describe(const void* pc, char* buf, size_t n) {
    uintptr_t off;
    const char* name = pc ? symbol_name(uintptr_t(pc) - 1, &off) : nullptr;
    strncpy_safe(buf, name ? name : "?", n);
    return buf;
}
}

void lockdep_stop() { stopped.store(true); }

#if GRACE_DEBUG
namespace {
constexpr int MAX_CLASSES = 64;
constexpr int MAX_HELD = 16;

struct lock_class {
    const char* name;          // the spinlocks' name (nullptr: unnamed)
    const spinlock* key;       // an unnamed lock's own address
    int rank;                  // its index in LOCK_ORDER, -1 if not there
};
lock_class classes[MAX_CLASSES];
std::atomic<int> nclasses{0};

// What was seen of one ordered pair of classes: a lock of the first was
// held when one of the second was taken.
struct pair_seen {
    std::atomic<bool> seen{false};
    const void* held_pc;       // where the held lock had been taken
    const void* taken_pc;      // where the second was taken
};
pair_seen pairs[MAX_CLASSES][MAX_CLASSES];

struct held_lock {
    spinlock* lock;
    const void* pc;
};
struct cpu_locks {
    held_lock held[MAX_HELD];
    int depth = 0;
};
cpu_locks held_by[MAXCPU];

// The registry's own lock: a bare flag (a spinlock would check itself).
std::atomic<bool> registry_busy{false};
struct registry_guard {
    uint64_t flags = irq_save();
    registry_guard() {
        while (registry_busy.exchange(true, std::memory_order_acquire)) cpu_relax();
    }
    ~registry_guard() {
        registry_busy.store(false, std::memory_order_release);
        irq_restore(flags);
    }
};

const char* lock_name(const spinlock* l, char* buf, size_t n) {
    if (l->name) return l->name;
    snprintf(buf, n, "spinlock@%p", static_cast<const void*>(l));
    return buf;
}

// class_of(l): l's class index, registering the class at first use; -1
// when the table is full (then l is not checked for order).
int class_of(spinlock* l) {
    int cls = __atomic_load_n(&l->lock_class, __ATOMIC_ACQUIRE);   // pairs with the store below
    if (cls >= 0) return cls;
    registry_guard g;
    int n = nclasses.load(std::memory_order_relaxed);
    for (int i = 0; i < n && cls < 0; ++i) {
        bool same = l->name ? classes[i].name && strcmp(classes[i].name, l->name) == 0
                            : classes[i].key == l;
        if (same) cls = i;
    }
    if (cls < 0 && n < MAX_CLASSES) {
        int rank = -1;
        for (size_t r = 0; l->name && r < LOCK_ORDER_LENGTH && rank < 0; ++r) {
            if (strcmp(LOCK_ORDER[r].name, l->name) == 0) rank = int(r);
        }
        classes[n] = {l->name, l->name ? nullptr : l, rank};
        nclasses.store(n + 1, std::memory_order_release);
        cls = n;
    } else if (cls < 0) {
        static bool said;
        if (!said) log_printf("lockdep: over %d lock classes: new ones go unchecked", MAX_CLASSES);
        said = true;
        return -1;
    }
    __atomic_store_n(&l->lock_class, int16_t(cls), __ATOMIC_RELEASE);   // classes[cls] is written
    return cls;
}

// check_order(h, l, cls, pc): this CPU holds h and takes l (class cls)
// at pc. Panics if THE LOCK ORDER or the first-seen order forbids it;
// otherwise records the pair's first-seen order.
void check_order(const held_lock& h, spinlock* l, int cls, const void* pc) {
    int hcls = __atomic_load_n(&h.lock->lock_class, __ATOMIC_ACQUIRE);
    if (hcls < 0 || cls < 0) return;
    char b1[40], b2[40], f1[96], f2[96];
    const char* held_name = lock_name(h.lock, b1, sizeof(b1));
    const char* name = lock_name(l, b2, sizeof(b2));
    int hrank = classes[hcls].rank, rank = classes[cls].rank;
    if (hcls == cls) {
        panic("lockdep: %s takes a second '%s' lock while holding one (taken in %s): two locks of "
              "one class at once can deadlock (only try_lock may do that)",
              describe(pc, f1, sizeof(f1)), name, describe(h.pc, f2, sizeof(f2)));
    }
    if (hrank >= 0 && rank >= 0 && hrank > rank) {
        panic("lockdep: lock order violated: %s takes '%s' (#%d in THE LOCK ORDER) while holding "
              "'%s' (#%d, taken in %s); the order at the top of kernel/sched.cc puts '%s' first",
              describe(pc, f1, sizeof(f1)), name, rank + 1, held_name, hrank + 1,
              describe(h.pc, f2, sizeof(f2)), name);
    }
    pair_seen& reverse = pairs[cls][hcls];
    if (reverse.seen.load(std::memory_order_acquire)) {
        char f3[96], f4[96];
        panic("lockdep: lock order inversion: %s takes '%s' while holding '%s' (taken in %s), but "
              "the opposite order was seen first: %s took '%s' while holding '%s' (taken in %s)",
              describe(pc, f1, sizeof(f1)), name, held_name, describe(h.pc, f2, sizeof(f2)),
              describe(reverse.taken_pc, f3, sizeof(f3)), held_name, name,
              describe(reverse.held_pc, f4, sizeof(f4)));
    }
    pair_seen& forward = pairs[hcls][cls];
    if (!forward.seen.load(std::memory_order_relaxed)) {
        registry_guard g;
        if (!forward.seen.load(std::memory_order_relaxed)) {
            forward.held_pc = h.pc;
            forward.taken_pc = pc;
            forward.seen.store(true, std::memory_order_release);
        }
    }
}

// active(): whether to check anything (not once a panic has begun).
bool active() { return !stopped.load(std::memory_order_relaxed); }
}

void lockdep_acquire(spinlock* l, bool trylock) {
    const void* pc = __builtin_return_address(0);
    if (!active()) return;
    uint64_t flags = irq_save();
    cpu* c = this_cpu_unchecked();
    char b[40], f1[96], f2[96];
    if (!trylock && __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED) == c->index) {
        panic("spinlock '%s' acquired again by cpu%d in %s: this CPU already holds it "
              "(taken in %s)", lock_name(l, b, sizeof(b)), c->index, describe(pc, f1, sizeof(f1)),
              describe(reinterpret_cast<const void*>(l->owner_pc), f2, sizeof(f2)));
    }
    int cls = class_of(l);
    cpu_locks& mine = held_by[c->index];
    if (!trylock) {
        for (int i = 0; i < mine.depth; ++i) check_order(mine.held[i], l, cls, pc);
    }
    if (mine.depth == MAX_HELD) {
        panic("lockdep: cpu%d holds more than %d spinlocks", c->index, MAX_HELD);
    }
    mine.held[mine.depth++] = {l, pc};
    irq_restore(flags);
}

void lockdep_acquired(spinlock* l) {
    if (!active()) return;
    l->owner_pc = uintptr_t(__builtin_return_address(0));
    __atomic_store_n(&l->owner_cpu, int16_t(this_cpu_unchecked()->index), __ATOMIC_RELAXED);
}

void lockdep_release(spinlock* l) {
    const void* pc = __builtin_return_address(0);
    if (!active()) return;
    uint64_t flags = irq_save();
    cpu* c = this_cpu_unchecked();
    int owner = __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED);
    if (owner != c->index) {
        char b[40], f1[96], who[48] = "nobody holds it";
        if (owner >= 0) snprintf(who, sizeof(who), "cpu%d holds it", owner);
        panic("spinlock '%s' released by cpu%d in %s, which does not hold it: %s",
              lock_name(l, b, sizeof(b)), c->index, describe(pc, f1, sizeof(f1)), who);
    }
    __atomic_store_n(&l->owner_cpu, int16_t(-1), __ATOMIC_RELAXED);
    cpu_locks& mine = held_by[c->index];
    int i = mine.depth - 1;
    while (i >= 0 && mine.held[i].lock != l) --i;
    assert(i >= 0);                      // owned here, so on this CPU's stack
    for (; i + 1 < mine.depth; ++i) mine.held[i] = mine.held[i + 1];
    --mine.depth;
    irq_restore(flags);
}

bool lockdep_held_here(const spinlock* l) {
    if (!active()) return true;
    return __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED) == this_cpu_unchecked()->index;
}

void lockdep_assert_held(const spinlock* l, const char* func) {
    if (lockdep_held_here(l)) return;
    int owner = __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED);
    char b[40], f1[96], who[48] = "nobody holds it";
    if (owner >= 0) snprintf(who, sizeof(who), "cpu%d holds it", owner);
    panic("%s() requires spinlock '%s' held by this CPU (cpu%d), but %s (in %s)", func,
          lock_name(l, b, sizeof(b)), this_cpu_unchecked()->index, who,
          describe(__builtin_return_address(0), f1, sizeof(f1)));
}
#endif

void might_sleep(const char* what, const void* caller) {
    uint32_t count = preempt_count();
    bool irqs = interrupts_enabled();
    if (count == 0 && irqs) return;
    char f1[96];
    describe(caller, f1, sizeof(f1));
#if GRACE_DEBUG
    if (active()) {
        cli();                           // this CPU's stack must hold still; a panic follows
        const cpu_locks& mine = held_by[this_cpu_unchecked()->index];
        if (mine.depth > 0) {
            const held_lock& h = mine.held[mine.depth - 1];
            char b[40], f2[96];
            panic("%s() called from %s holding spinlock '%s' (taken in %s): it may sleep", what, f1,
                  lock_name(h.lock, b, sizeof(b)), describe(h.pc, f2, sizeof(f2)));
        }
    }
#endif
    if (count >= PREEMPT_IRQ) {
        panic("%s() called from %s in an interrupt handler: it may sleep", what, f1);
    }
    if (count != 0) {
        panic("%s() inside an RCU read section or with preemption disabled (count %u), "
              "called from %s", what, count, f1);
    }
    panic("%s() called from %s with interrupts disabled: it may sleep, and would return with "
          "them enabled", what, f1);
}

[[gnu::noinline]] void this_cpu_unpinned() {
    char f[96];
    panic("this_cpu() called from %s with preemption and interrupts enabled: the caller may move "
          "to another CPU at any moment (disable preemption first, or use this_cpu_unchecked() "
          "for a diagnostic)", describe(__builtin_return_address(0), f, sizeof(f)));
}
