// kernel/trace.hh: event tracing, to watch grace periods happen.
//
// WHAT. With the boot option `trace=rcu,sched,read` (any of the classes
// below, or `all`) every CPU records timestamped events in a ring buffer of
// its own: grace periods requested, started and ended; each CPU's quiescent
// states and where they came from; call_rcu and the callbacks it queued;
// expedited IPIs; stall warnings; context switches and idle stretches; read
// sections of the largestruct schemes. The buffers are printed (a "dump")
// when the first process exits, at a panic, and on request (sys_kprint
// ("trace"), the shell's `trace`), on the console or, with trace_port=2, on
// the second serial port. On the host, tools/ktrace.py turns a dump into a
// Chrome/Perfetto trace and an SVG timeline (`make trace-NAME` does it all
// for program NAME), and checks that the events are in an order RCU allows.
// GDB's grace-trace prints the newest events of a stopped kernel.
//
// COST. Off (the default) a trace point is one load of trace_mask, which
// nobody writes after boot, and one branch the CPU predicts; the arguments
// are not even computed, which is why TRACE is a macro. On, an event is 32
// bytes in this CPU's own buffer, written with interrupts off: no lock, no
// cache line shared with another CPU. A full buffer overwrites its oldest
// events (a flight recorder: the events just before a stall or a panic are
// the ones wanted), and the dump says how many were lost.
//
// ADDING AN EVENT: one line in TRACE_EVENTS, then TRACE(name, a, b, c)
// where it happens. The dump, GDB's grace-trace and tools/ktrace.py all
// read the names and argument formats from this table.
#pragma once
#include "kernel.hh"
#include "cpu.hh"
#include "rcu.hh"
#include <atomic>

// The classes `trace=` turns on: name, what they record. Class i is bit
// 1 << i of trace_mask (TC_rcu, TC_sched, TC_read).
#define TRACE_CLASSES(X)                                                                    \
    X(rcu, "grace periods, quiescent states, call_rcu and callbacks, expedited IPIs, stalls") \
    X(sched, "context switches, idle entry and exit")                                       \
    X(read, "read sections of the largestruct schemes and of self-tests")

enum trace_class_index : uint32_t {
#define TRACE_CLASS_INDEX(name, what) TCI_##name,
    TRACE_CLASSES(TRACE_CLASS_INDEX)
#undef TRACE_CLASS_INDEX
    TRACE_NCLASSES
};
enum : uint32_t {
#define TRACE_CLASS_BIT(name, what) TC_##name = 1u << TCI_##name,
    TRACE_CLASSES(TRACE_CLASS_BIT)
#undef TRACE_CLASS_BIT
    TC_all = (1u << TRACE_NCLASSES) - 1,
};
// The class names, for the boot option (options.cc); nullptr-terminated.
inline constexpr const char* TRACE_CLASS_NAMES[] = {
#define TRACE_CLASS_NAME(name, what) #name,
    TRACE_CLASSES(TRACE_CLASS_NAME)
#undef TRACE_CLASS_NAME
    nullptr};

// Where a quiescent state was reported from (the `from` of a qs event).
#define TRACE_QS_SOURCES(X) X(other) X(schedule) X(tick) X(idle) X(ipi) X(sync) X(expedited)
enum class qs_from : uint8_t {
#define TRACE_QS_ENUM(name) name,
    TRACE_QS_SOURCES(TRACE_QS_ENUM)
#undef TRACE_QS_ENUM
};
inline constexpr const char* trace_qs_names[] = {
#define TRACE_QS_NAME(name) #name,
    TRACE_QS_SOURCES(TRACE_QS_NAME)
#undef TRACE_QS_NAME
};

// The events: name, class, then its arguments a (64 bits), b (64 bits) and
// c (32 bits) as "name:format" ("" = unused). Formats: d decimal, x hex,
// s up to 8 characters packed by trace_pack, q a qs_from name. A GP
// number n is the n-th grace period since boot (gp_seq = 2n-1 while it
// runs, 2n once it has ended). A read section's events have inside=1 when
// they are recorded inside rcu_read_lock()..rcu_read_unlock() (a grace
// period that starts between them must end after them: tools/ktrace.py
// checks it), inside=0 when they only bracket a read that takes its own
// protection (sys_lsread, whatever the scheme).
#define TRACE_EVENTS(X)                                                                     \
    X(gp_request, TC_rcu, "gp:d", "", "")        /* grace periods up to gp are needed now */ \
    X(gp_start, TC_rcu, "gp:d", "wait:x", "")    /* gp starts; CPUs in `wait` owe it a QS */ \
    X(gp_end, TC_rcu, "gp:d", "", "")            /* the last quiescent state of gp arrived */ \
    X(qs, TC_rcu, "gp:d", "", "from:q")          /* this CPU's quiescent state counts for gp */ \
    X(call_rcu, TC_rcu, "cb:x", "gp:d", "")      /* callback cb queued; it needs gp */     \
    X(cb_batch, TC_rcu, "n:d", "", "")           /* this CPU runs n ready callbacks */     \
    X(cb_invoke, TC_rcu, "cb:x", "gp:d", "")     /* callback cb runs (it needed gp) */     \
    X(exp_ipi, TC_rcu, "cpus:x", "", "")         /* expedited GP: IPIs to the CPUs in mask */ \
    X(stall, TC_rcu, "gp:d", "wait:x", "")       /* stall warning: gp still waits for `wait` */ \
    X(sync_begin, TC_rcu, "gp:d", "exp:d", "task:d") /* synchronize_rcu(_expedited) needs gp */ \
    X(sync_end, TC_rcu, "gp:d", "exp:d", "task:d")   /* ...returns; gp GPs have completed */ \
    X(sched_switch, TC_sched, "in:d", "name:s", "out:d") /* task `in` replaces task `out` */ \
    X(idle_enter, TC_sched, "", "", "")          /* extended quiescent state begins */     \
    X(idle_exit, TC_sched, "", "", "")           /* ...and ends */                         \
    X(read_begin, TC_read, "what:s", "inside:d", "task:d") /* a read section begins */     \
    X(read_end, TC_read, "what:s", "inside:d", "task:d")   /* ...and ends */               \
    X(mark, TC_all, "value:d", "what:s", "")     /* a self-test's marker */

enum class trace_kind : uint16_t {
#define TRACE_KIND_ENUM(name, cls, a, b, c) name,
    TRACE_EVENTS(TRACE_KIND_ENUM)
#undef TRACE_KIND_ENUM
    count
};

struct trace_kind_info {
    const char* name;
    uint32_t classes;
    const char* args[3];
};
// The table itself: the dump formats events from it, and GDB's grace-trace
// reads it from the kernel's memory (symbol trace_kinds).
inline constexpr trace_kind_info trace_kinds[] = {
#define TRACE_KIND_INFO(name, cls, a, b, c) {#name, cls, {a, b, c}},
    TRACE_EVENTS(TRACE_KIND_INFO)
#undef TRACE_KIND_INFO
};

// One event as it sits in a buffer (GDB reads this layout).
struct trace_event {
    uint64_t ns;          // clock_ns() when it happened
    uint64_t a, b;
    uint32_t c;
    uint16_t kind;        // a trace_kind
    uint16_t reserved;
};
static_assert(sizeof(trace_event) == 32);

// One CPU's buffer and bookkeeping, on cache lines of its own.
struct alignas(64) trace_cpu {
    trace_event* events = nullptr;   // trace_capacity of them
    uint64_t head = 0;               // events recorded since boot; the next is events[head % capacity]
    uint64_t dumped = 0;             // events before this one have been dumped (or lost)
    std::atomic<uint32_t> busy{0};   // 1 while an event is being written (trace_dump waits)
    qs_from qs_site = qs_from::other;   // set by rcu_note_qs_from while it runs
    uint64_t qs_ns = 0;              // ...and when it was called (trace.cc: the qs timestamp)
};
extern trace_cpu trace_cpus[MAXCPU];
extern uint64_t trace_capacity;            // events per CPU, a power of two
extern std::atomic<uint32_t> trace_mask;   // the classes being recorded now

// trace_on(kind): whether events of this kind are being recorded.
inline bool trace_on(trace_kind k) {
    return trace_mask.load(std::memory_order_relaxed) & trace_kinds[unsigned(k)].classes;
}

// trace_emit(kind, a, b, c): record one event on this CPU (the slow path).
void trace_emit(trace_kind k, uint64_t a, uint64_t b, uint32_t c);

// TRACE(name, a[, b[, c]]): record event `name` if its class is on. The
// arguments are evaluated only then.
#define TRACE(name, ...)                                                                    \
    do {                                                                                    \
        if (__builtin_expect(trace_on(trace_kind::name), 0))                                \
            trace_emit_args(trace_kind::name, __VA_ARGS__);                                 \
    } while (0)
inline void trace_emit_args(trace_kind k, uint64_t a = 0, uint64_t b = 0, uint32_t c = 0) {
    trace_emit(k, a, b, c);
}
// TRACE0(name): an event without arguments.
#define TRACE0(name)                                                                        \
    do {                                                                                    \
        if (__builtin_expect(trace_on(trace_kind::name), 0))                                \
            trace_emit(trace_kind::name, 0, 0, 0);                                          \
    } while (0)

// trace_pack(s): the first 8 characters of s in one word (format s).
inline uint64_t trace_pack(const char* s) {
    uint64_t v = 0;
    for (int i = 0; i < 8 && s[i]; ++i) v |= uint64_t(uint8_t(s[i])) << (8 * i);
    return v;
}

// rcu_note_qs_from(where): rcu_note_qs(), remembering for the trace where
// the quiescent state came from.
void trace_note_qs_from(qs_from where);
inline void rcu_note_qs_from(qs_from where) {
    if (__builtin_expect(trace_on(trace_kind::qs), 0)) trace_note_qs_from(where);
    else rcu_note_qs();
}
// trace_qs_site(c): where CPU c's quiescent state being counted came from.
inline uint32_t trace_qs_site(const cpu* c) { return uint32_t(trace_cpus[c->index].qs_site); }

// trace_sync_guard: a sync_begin event now and a sync_end event when the
// scope ends (synchronize_rcu and its expedited twin). `needed_gp` is
// called only while tracing.
class [[nodiscard]] trace_sync_guard {
public:
    template <typename F>
    trace_sync_guard(bool expedited, F needed_gp) : expedited_(expedited) {
        if (__builtin_expect(trace_on(trace_kind::sync_begin), 0)) {
            on_ = true;
            trace_emit(trace_kind::sync_begin, needed_gp(), expedited, current_pid());
        }
    }
    ~trace_sync_guard() {
        if (on_) trace_emit(trace_kind::sync_end, rcu_completed_gp(), expedited_, current_pid());
    }
    trace_sync_guard(const trace_sync_guard&) = delete;
    trace_sync_guard& operator=(const trace_sync_guard&) = delete;
private:
    static uint32_t current_pid();
    bool expedited_;
    bool on_ = false;
};

// trace_init(): allocate the buffers and start recording if the boot
// options ask for it (kernel_main, once the CPUs are counted).
void trace_init();
// trace_dump(reason, final): print every CPU's events not dumped yet. A
// final dump (the machine is about to stop) stops recording first; others
// let every CPU go on. reason: "exit", "panic" or "request".
void trace_dump(const char* reason, bool final);
