// kernel/trace.cc: the per-CPU event buffers and their dump (what and why:
// kernel/trace.hh).
//
// WRITING. trace_emit runs with interrupts off on the CPU that owns the
// buffer, so nothing else writes there meanwhile; it publishes an event by
// advancing `head`. Nobody else writes these cache lines except a dump.
//
// DUMPING. A dump on request lets every CPU go on recording: it copies a
// CPU's events out, then looks at `head` again and counts as lost any event
// whose slot the CPU began to overwrite meanwhile. A final dump (the first
// process exited, or a panic) stops recording first. A writer sets its
// `busy` word with an xchg (a full fence) before it looks at trace_mask
// again; the dump clears trace_mask, then waits for every busy word to
// clear: either the writer sees recording stopped, or the dump sees it
// busy and waits.
//
// TIMESTAMPS THAT ORDER. Events from different CPUs are compared by their
// clock_ns(), which QEMU keeps in step on every CPU. A timestamp taken right
// after the fact can still be late: a CPU clears its bit in qs_pending, is
// delayed, and records its quiescent state only after another CPU ended the
// grace period. So a qs event carries the time rcu_note_qs_from was called
// (the CPU was quiescent from then on, interrupts off) or, if later, the
// time its grace period started: a time at which the CPU was quiescent,
// inside the grace period, before its bit was cleared. With that, every
// order tools/ktrace.py checks holds on a correct kernel: a grace period's
// start precedes each of its quiescent states, the last of them precedes
// its end, and its end precedes the callbacks and synchronize_rcu calls
// that waited for it.
//
// DUMP FORMAT (tools/ktrace.py parses it, GDB's grace-trace prints events
// the same way):
//   trace: begin reason=exit ncpu=2 capacity=4096 classes=rcu,sched
//   trace: cpu=0 events=812 lost=0 first=0 next=812
//   trace: 0 17 81234567 qs gp=3 from=tick        (CPU, sequence number, ns, event, arguments)
//   ...
//   trace: end
// `first`..`next` are the sequence numbers printed; `lost` counts the events
// overwritten since the previous dump before they could be printed. Dumps on
// request follow on from each other: each prints what came after the last.
#include "trace.hh"
#include "proc.hh"
#include "apic.hh"
#include "kalloc.hh"
#include "printf.hh"
#include <stdarg.h>

trace_cpu trace_cpus[MAXCPU];
uint64_t trace_capacity;
alignas(64) std::atomic<uint32_t> trace_mask{0};

namespace {
// The start time of the two newest grace periods, by the parity of their
// number (a qs event's lower bound, see above).
std::atomic<uint64_t> gp_start_ns[2];

constexpr uint16_t COM2 = 0x2f8;
bool to_com2;                          // dumps go to COM2 (trace_port=2) instead of the console
trace_event* dump_copy;                // trace_capacity events: what dump_cpu prints from

// com2_init(): set up the second serial port; false if there is none (its
// scratch register does not keep what is written to it).
bool com2_init() {
    outb(COM2 + 7, 0x5a);
    if (inb(COM2 + 7) != 0x5a) return false;
    outb(COM2 + 1, 0x00);              // no interrupts
    outb(COM2 + 3, 0x80);              // DLAB
    outb(COM2 + 0, 0x01);              // 115200 baud
    outb(COM2 + 1, 0x00);
    outb(COM2 + 3, 0x03);              // 8N1
    outb(COM2 + 2, 0x01);              // FIFO on
    return true;
}

// out(s, n): one whole line of a dump, to COM2 or the console. Only the
// dumping CPU writes to COM2, so it needs no lock.
void out(const char* s, size_t n) {
    if (!to_com2) {
        console_write(s, n);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        while (!(inb(COM2 + 5) & 0x20)) cpu_relax();
        outb(COM2, uint8_t(s[i]));
    }
}

__attribute__((format(printf, 1, 2))) void outf(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out(buf, min<size_t>(n, sizeof(buf) - 1));
}

// format_classes(mask, buf, n): "rcu,sched" for a class mask.
const char* format_classes(uint32_t mask, char* buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < TRACE_NCLASSES; ++i) {
        if (mask & (1u << i)) k += snprintf(buf + k, n - k, "%s%s", k ? "," : "", TRACE_CLASS_NAMES[i]);
    }
    if (!k) snprintf(buf, n, "none");
    return buf;
}

// format_arg(buf, n, spec, v): " name=value" for argument spec "name:f".
size_t format_arg(char* buf, size_t n, const char* spec, uint64_t v) {
    const char* colon = strchr(spec, ':');
    if (!*spec || !colon) return 0;
    int len = int(colon - spec);
    switch (colon[1]) {
    case 'x':
        return snprintf(buf, n, " %.*s=0x%lx", len, spec, v);
    case 's': {
        char s[9];
        int i = 0;
        for (; i < 8 && (v >> (8 * i)) & 0xff; ++i) {
            char ch = char((v >> (8 * i)) & 0xff);
            s[i] = ch > ' ' && ch < 127 ? ch : '_';
        }
        s[i] = 0;
        return snprintf(buf, n, " %.*s=%s", len, spec, i ? s : "-");
    }
    case 'q':
        return snprintf(buf, n, " %.*s=%s", len, spec,
                        v < sizeof(trace_qs_names) / sizeof(trace_qs_names[0]) ? trace_qs_names[v] : "?");
    default:
        return snprintf(buf, n, " %.*s=%lu", len, spec, v);
    }
}

// print_event(cpu, seq, e): one event line of the dump.
void print_event(int cpu, uint64_t seq, const trace_event& e) {
    char line[200];
    size_t k = snprintf(line, sizeof(line), "trace: %d %lu %lu ", cpu, seq, e.ns);
    if (e.kind >= unsigned(trace_kind::count)) {
        k += snprintf(line + k, sizeof(line) - k, "unknown kind=%u", e.kind);
    } else {
        const trace_kind_info& info = trace_kinds[e.kind];
        k += snprintf(line + k, sizeof(line) - k, "%s", info.name);
        const uint64_t values[3] = {e.a, e.b, e.c};
        for (int i = 0; i < 3 && k < sizeof(line) - 2; ++i) {
            k += format_arg(line + k, sizeof(line) - k, info.args[i], values[i]);
        }
    }
    k = min(k, sizeof(line) - 2);
    line[k++] = '\n';
    out(line, k);
}

// trace_dump_stopped(): recording has stopped for a final dump, which prints next.
// (A place for GDB to stop: tests/tests_trace.py compares grace-trace
// there with the dump that follows.)
__attribute__((noinline)) void trace_dump_stopped() { asm volatile("" ::: "memory"); }
}

void trace_emit(trace_kind k, uint64_t a, uint64_t b, uint32_t c) {
    uint64_t flags = irq_save();
    trace_cpu& t = trace_cpus[this_cpu()->index];
    t.busy.exchange(1);
    if ((trace_mask.load() & trace_kinds[unsigned(k)].classes) && t.events) {
        uint64_t now = clock_ns();
        if (k == trace_kind::qs && t.qs_ns) {
            now = max(t.qs_ns, gp_start_ns[a & 1].load(std::memory_order_relaxed));
            t.qs_ns = 0;               // a second qs in one call (a new GP) is "now"
        } else if (k == trace_kind::gp_start) {
            gp_start_ns[a & 1].store(now, std::memory_order_relaxed);
        }
        uint64_t h = t.head;
        t.events[h & (trace_capacity - 1)] = trace_event{now, a, b, c, uint16_t(k), 0};
        __atomic_store_n(&t.head, h + 1, __ATOMIC_RELEASE);
    }
    t.busy.store(0, std::memory_order_release);
    irq_restore(flags);
}

void trace_note_qs_from(qs_from where) {
    irq_guard g;
    trace_cpu& t = trace_cpus[this_cpu()->index];
    t.qs_site = where;
    t.qs_ns = clock_ns();
    rcu_note_qs();
    t.qs_site = qs_from::other;
    t.qs_ns = 0;
}

uint32_t trace_sync_guard::current_pid() { return uint32_t(current()->pid); }

void trace_init() {
    if (!kopts.trace) return;
    uint64_t cap = 16;
    while (cap < kopts.trace_buf) cap <<= 1;
    size_t pages = round_up<size_t>(cap * sizeof(trace_event), PAGESIZE) / PAGESIZE;
    // One buffer per CPU, and one more that a dump copies a CPU's events into.
    for (int i = 0; i <= ncpu; ++i) {
        auto* events = static_cast<trace_event*>(kalloc_pages(pages));
        if (!events) {
            log_printf("trace: no memory for %lu events per CPU: tracing stays off", cap);
            for (int j = 0; j < i; ++j) {
                kfree_pages(trace_cpus[j].events);
                trace_cpus[j].events = nullptr;
            }
            kfree_pages(dump_copy);
            dump_copy = nullptr;
            return;
        }
        if (i < ncpu) trace_cpus[i].events = events;
        else dump_copy = events;
    }
    trace_capacity = cap;
    to_com2 = kopts.trace_port == 2 && com2_init();
    if (kopts.trace_port == 2 && !to_com2) log_printf("trace: no second serial port: dumps go to the console");
    char classes[64];
    log_printf("trace: recording %s, %lu events per CPU; dumps go to %s",
               format_classes(kopts.trace, classes, sizeof(classes)), cap, to_com2 ? "COM2" : "the console");
    trace_mask.store(kopts.trace);
}

// dump_cpu(i): print CPU i's events that no dump printed yet. They are
// copied out first, while the CPU may go on recording (a dump on request);
// a copied event whose slot the CPU started to overwrite meanwhile is
// counted lost, not printed.
static void dump_cpu(int i) {
    trace_cpu& t = trace_cpus[i];
    uint64_t head = __atomic_load_n(&t.head, __ATOMIC_ACQUIRE);
    uint64_t first = max(t.dumped, head > trace_capacity ? head - trace_capacity : 0);
    for (uint64_t seq = first; seq < head; ++seq) {
        dump_copy[seq - first] = t.events[seq & (trace_capacity - 1)];
    }
    // Events the CPU overwrote meanwhile: those before `now` - capacity, and
    // one more if it is writing right now. (`busy` first: a writer sets it,
    // writes, advances head, clears it; loads are not reordered on x86.)
    std::atomic_thread_fence(std::memory_order_seq_cst);
    uint64_t writing = t.busy.load();
    uint64_t now = __atomic_load_n(&t.head, __ATOMIC_ACQUIRE) + writing;
    uint64_t valid = min(max(first, now > trace_capacity ? now - trace_capacity : 0), head);
    outf("trace: cpu=%d events=%lu lost=%lu first=%lu next=%lu\n", i, head - valid,
         valid - t.dumped, valid, head);
    for (uint64_t seq = valid; seq < head; ++seq) print_event(i, seq, dump_copy[seq - first]);
    t.dumped = head;
}

void trace_dump(const char* reason, bool final) {
    if (!trace_capacity) {             // never recording: say so only when asked
        if (strcmp(reason, "request") == 0) {
            console_printf("trace: off (the boot option trace=rcu,sched,read records events)\n");
        }
        return;
    }
    // One dump at a time. A panic dumps anyway: the CPU that was dumping
    // has been stopped.
    static std::atomic<bool> dumping{false};
    bool panicking = strcmp(reason, "panic") == 0;
    if (dumping.exchange(true) && !panicking) {
        console_printf("trace: a dump is already being printed\n");
        return;
    }
    static uint32_t recorded = trace_mask.load();   // the classes, for the header
    if (final) {
        // Stop recording, and wait out writes in flight (not forever: a CPU
        // a panic stopped may have been stopped inside one).
        if (uint32_t was = trace_mask.exchange(0)) recorded = was;
        uint64_t give_up = clock_ns() + 50000000;
        for (int i = 0; i < ncpu; ++i) {
            while (trace_cpus[i].busy.load() && clock_ns() < give_up) cpu_relax();
        }
        trace_dump_stopped();
    }
    char classes[64];
    outf("trace: begin reason=%s ncpu=%d capacity=%lu classes=%s\n", reason, ncpu, trace_capacity,
         format_classes(recorded, classes, sizeof(classes)));
    for (int i = 0; i < ncpu; ++i) dump_cpu(i);
    outf("trace: end\n");
    dumping.store(false);
}
