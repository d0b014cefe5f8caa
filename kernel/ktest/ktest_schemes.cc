// kernel/ktest/ktest_schemes.cc: self-tests for what distinguishes the other
// reclamation schemes (kernel/ls/ls_hazptr.cc, ls_refcount.cc, ls_diffref.cc,
// ls_lopsided.cc), run with `ktest NAME [ARG]`. Each reaches its scheme,
// and the hooks it uses, through the registry (ls_find; kernel/ls/ls.hh):
//   hazptr-sleep [MS]      a hazard-pointer reader sleeps while protected
//                          (MS, default 20, then until scans have found its
//                          struct and kept it twice) while writers on the
//                          other CPUs replace the struct hundreds of times:
//                          its struct stays intact
//   hazptr-store-buffer    a hazard-pointer reader's hazard store held back
//                          as if in its CPU's store buffer while writers on
//                          another CPU scan: the scan must still see it
//                          (the reader's fence, or with hazptr_asym=1 the
//                          scanner's IPI, makes it visible)
//   hazptr-reload          writers replace the struct and scan between a
//                          hazard-pointer reader's load of the pointer and
//                          its hazard store: the reader must reload and
//                          protect the new struct
//   refcount-sleep [MS]    the same for a reader holding a reference, until
//                          the eraser has found it old enough and re-queued
//                          it twice
//   diffref-stress [MS]    readers on every CPU acquire and release while a
//                          writer replaces the struct as fast as it can: no
//                          reader sees a changed or freed struct, and
//                          afterwards every struct but the current is freed
//   lopsided-bounded [MS]  (3+ CPUs) a slow reader holds MS-long sections so
//                          the writer spins for it; fast readers on other
//                          CPUs keep sections as short as with no writer
//   scheme-settle SCHEME   not a test: reclaim everything a scheme has
//                          deferred (its settle hook), so a memory count is
//                          comparable
// Structs are only ever written whole, with one of NPAT patterns, so a
// reader's checksum must be one of theirs: freed (0x6b-poisoned) or
// reused memory is caught.
#include "ktest/ktest.hh"
#include "ls/ls.hh"
#include "proc.hh"
#include "kalloc.hh"
#include "apic.hh"

namespace {
constexpr int NPAT = 4;
char patterns[NPAT][LS_SIZE];
uint64_t pattern_sum[NPAT];
uint64_t poison_sum;
std::atomic<bool> patterns_ready{false};
spinlock patterns_lock{"ktest.patterns_lock"};

// The same byte formula as user/hammer.cc: two patterns differ in every byte.
void make_patterns() {
    spinlock_guard g(patterns_lock);
    if (patterns_ready.load()) return;
    for (int k = 0; k < NPAT; ++k) {
        for (size_t i = 0; i < LS_SIZE; ++i) patterns[k][i] = char(((k + 1) * 131 + i * 7 + (i >> 8)) & 0xff);
        pattern_sum[k] = ls_checksum(patterns[k], LS_SIZE);
    }
    static char poison[LS_SIZE];
    memset(poison, POISON_BYTE, LS_SIZE);
    poison_sum = ls_checksum(poison, LS_SIZE);
    patterns_ready.store(true);
}

bool is_pattern_sum(uint64_t s) {
    for (uint64_t p : pattern_sum) if (s == p) return true;
    return false;
}

// scheme_for(test, id, sleeps, counter): scheme `id` from the registry if
// it has what `test` needs: a held_read (whose while_held may sleep, if
// `sleeps`) and, if `counter` names one, that counter (not null); else
// nullptr, after a line saying what is missing.
const ls_scheme* scheme_for(const char* test, int id, bool sleeps, const char* counter = nullptr,
                            const void* counter_value = nullptr) {
    const ls_scheme* s = ls_find(id);
    const char* missing = !s ? "registered scheme"
                          : !s->held_read ? "held_read"
                          : sleeps && !s->held_read_may_sleep ? "held_read that may sleep"
                          : counter && !counter_value ? counter : nullptr;
    if (missing) log_printf("ktest %s: no %s for scheme %d (kernel/ls/ls.hh)", test, missing, id);
    return missing ? nullptr : s;
}

// ---- writers: kernel threads that write whole patterns until stopped ----
struct writer_ctl {
    const ls_scheme* scheme;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> writes{0};
    std::atomic<long> errors{0};
    std::atomic<bool> writing{false};        // a write is in progress
    std::atomic<bool> held{false};           // set: start no new write
    bool numbered = false;                   // each write's first word: its number
    std::atomic<uint64_t> write_ns_max{0}, write_ns_total{0};
    uint64_t pause_ms = 0;                   // sleep between writes
    // Optional: how far `progress` (readers' sections) moved during the
    // writes that took at least long_write_ns.
    const std::atomic<uint64_t>* progress = nullptr;
    uint64_t long_write_ns = 0;
    std::atomic<uint64_t> long_writes{0}, long_write_ns_total{0}, progress_in_long_writes{0};
};

void writer_fn(void* arg) {
    auto* w = static_cast<writer_ctl*>(arg);
    int k = 1;
    while (!w->stop.load(std::memory_order_relaxed)) {
        w->writing.store(true);
        if (w->held.load()) {                // (seq_cst both sides: see hold_writer)
            w->writing.store(false);
            cpu_relax();
            continue;
        }
        k = k % (NPAT - 1) + 1;              // patterns 1..NPAT-1
        uint64_t p0 = w->progress ? w->progress->load() : 0;
        uint64_t t0 = clock_ns();
        const char* data = patterns[k];
        if (w->numbered) {                   // (one numbered writer at a time)
            static char numbered_data[LS_SIZE];
            memcpy(numbered_data, patterns[k], LS_SIZE);
            uint64_t n = w->writes.load() + 1;
            memcpy(numbered_data, &n, sizeof(n));
            data = numbered_data;
        }
        if (w->scheme->write(data, LS_SIZE) != 0) w->errors.fetch_add(1);
        uint64_t dt = clock_ns() - t0;
        uint64_t p1 = w->progress ? w->progress->load() : 0;
        w->writing.store(false);
        if (w->progress && dt >= w->long_write_ns) {
            w->long_writes.fetch_add(1);
            w->long_write_ns_total.fetch_add(dt);
            w->progress_in_long_writes.fetch_add(p1 - p0);
        }
        w->writes.fetch_add(1, std::memory_order_relaxed);
        w->write_ns_total.fetch_add(dt, std::memory_order_relaxed);
        if (dt > w->write_ns_max.load(std::memory_order_relaxed)) w->write_ns_max.store(dt);
        if (w->pause_ms) msleep(w->pause_ms);
    }
    proc_exit(0);
}

// ---- hazptr-sleep, refcount-sleep ----
struct hold_ctl {
    uint64_t hold_ms;
    const std::atomic<uint64_t>* progress;   // a counter that must move while held
    uint64_t progress_needed;
    writer_ctl* writers;
    uint64_t progress_seen = 0, writes_seen = 0, held_ns = 0;
};

// sleeper(): runs inside the held read: sleep hold_ms, then on until the
// scheme has found the held struct and kept it (`progress`) at least
// progress_needed times and 100 writes happened; at most 5 s or
// MAX_HELD_WRITES writes, after which a scheme that never kept it (a
// broken one) has had every chance.
constexpr uint64_t MAX_HELD_WRITES = 10000;
void sleeper(void* arg) {
    auto* h = static_cast<hold_ctl*>(arg);
    uint64_t p0 = h->progress->load(), w0 = h->writers->writes.load(), t0 = clock_ns();
    msleep(h->hold_ms);
    while ((h->progress->load() - p0 < h->progress_needed || h->writers->writes.load() - w0 < 100)
           && h->writers->writes.load() - w0 < MAX_HELD_WRITES && clock_ns() - t0 < 5000000000UL) {
        msleep(5);
    }
    h->progress_seen = h->progress->load() - p0;
    h->writes_seen = h->writers->writes.load() - w0;
    h->held_ns = clock_ns() - t0;
}

// test_sleeping_reader(name, id, hold_ms): three rounds of a reader of
// scheme `id` holding its struct across a sleep while writers on the other
// CPUs replace it, until reclamation has found the held struct and kept it
// twice (the scheme's kept_for_reader counter).
long test_sleeping_reader(const char* name, int id, long hold_ms) {
    make_patterns();
    const ls_scheme* s = ls_find(id);
    if (!scheme_for(name, id, true, "kept_for_reader", s ? s->kept_for_reader : nullptr)) return -EINVAL;
    const std::atomic<uint64_t>* progress = s->kept_for_reader;
    constexpr uint64_t progress_needed = 2;
    if (s->write(patterns[0], LS_SIZE) != 0) return -EINVAL;
    writer_ctl w;
    w.scheme = s;
    proc* threads[MAXCPU] = {};
    int me = this_cpu_index();
    for (int i = 0; i < ncpu; ++i) {
        if (i != me || ncpu == 1) threads[i] = kthread_spawn_on(i, "ls-writer", writer_fn, &w);
    }
    long failures = 0;
    for (int round = 0; round < 3; ++round) {
        hold_ctl h{uint64_t(hold_ms), progress, progress_needed, &w};
        uint64_t before = 0, after = 0;
        s->held_read(LS_SIZE, sleeper, &h, &before, &after);
        bool intact = before == after && is_pattern_sum(before);
        bool enough = h.progress_seen >= progress_needed && h.writes_seen >= 100;
        log_printf("ktest %s: round %d: reader held its struct %lu ms across %lu writes, and "
                   "reclamation found it held and kept it %lu times: checksum %#lx before, %#lx after%s: %s",
                   name, round, h.held_ns / 1000000, h.writes_seen, h.progress_seen,
                   before, after, after == poison_sum ? " (POISON: freed under the reader)" : "",
                   !intact ? "FAILED" : enough ? "intact" : "FAILED (too few writes to tell)");
        failures += !intact || !enough;
    }
    w.stop.store(true);
    for (proc* p : threads) if (p) kthread_join(p);
    if (w.errors.load()) {
        log_printf("ktest %s: %ld writes failed", name, w.errors.load());
        ++failures;
    }
    return failures ? -1 : 0;
}

// ---- hazptr-store-buffer ----
// x86-TSO lets a reader's hazard store wait in its CPU's store buffer
// while its reload runs, and a scan that reads the slots meanwhile misses
// the hazard. The symmetric variant's reader fence, or the asymmetric
// variant's membarrier_all IPI from the scanner, must make the store
// visible before the scan reads the slots (ls_hazptr.cc argues why). The
// real window is nanoseconds wide; here it is held open every time
// (store_buffer_hold, apic.hh): the reader's hazard store waits for that
// CPU's next full barrier while the reader keeps its struct, with
// preemption off and interrupts on, until scans on the writer's CPU have
// found it and kept it twice, or 2000 writes went by. Shown to fail with
// the scanner's membarrier_all removed (hazptr_asym=1) and with the
// reader's fence removed (symmetric): the struct was freed under the
// reader (its checksum turned to poison).
struct buffered_ctl {
    writer_ctl* writers;
    const std::atomic<uint64_t>* kept;
    uint64_t before = 0, after = 0, kept_seen = 0, writes_seen = 0;
    std::atomic<bool> done{false};
};

void hold_until_scanned(void* arg) {
    auto* b = static_cast<buffered_ctl*>(arg);
    uint64_t k0 = b->kept->load(), w0 = b->writers->writes.load();
    uint64_t give_up = clock_ns() + 5000000000UL;
    while (b->kept->load() - k0 < 2 && b->writers->writes.load() - w0 < 2000
           && clock_ns() < give_up) {
        cpu_relax();
    }
    b->kept_seen = b->kept->load() - k0;
    b->writes_seen = b->writers->writes.load() - w0;
}

void buffered_reader_fn(void* arg) {
    auto* b = static_cast<buffered_ctl*>(arg);
    const ls_scheme* s = b->writers->scheme;
    {
        preempt_guard g;                      // no context switch (a full barrier) meanwhile
        store_buffer_arm(this_cpu()->index);
        s->held_read(LS_SIZE, hold_until_scanned, b, &b->before, &b->after);
    }
    b->done.store(true);
    proc_exit(0);
}

long test_store_buffer(long) {
    make_patterns();
    const ls_scheme* s = ls_find(LS_HAZPTR);
    if (ncpu < 2 || !scheme_for("hazptr-store-buffer", LS_HAZPTR, false, "kept_for_reader",
                                s ? s->kept_for_reader : nullptr)) {
        return -EINVAL;
    }
    if (s->write(patterns[0], LS_SIZE) != 0) return -EINVAL;
    writer_ctl w;
    w.scheme = s;
    buffered_ctl b;
    b.writers = &w;
    b.kept = s->kept_for_reader;
    proc* writer = kthread_spawn_on(1, "ls-writer", writer_fn, &w);
    proc* reader = kthread_spawn_on(0, "held-reader", buffered_reader_fn, &b);
    kthread_join(reader);
    w.stop.store(true);
    kthread_join(writer);
    bool intact = b.before == b.after && is_pattern_sum(b.before);
    bool ok = intact && b.kept_seen >= 2 && w.errors.load() == 0;
    log_printf("ktest hazptr-store-buffer (%s): the reader's hazard store was held back; %lu "
               "writes on cpu1, scans kept the struct %lu times; checksum %#lx before, %#lx "
               "after%s: %s",
               kopts.hazptr_asym ? "asymmetric" : "symmetric", b.writes_seen, b.kept_seen, b.before,
               b.after, b.after == poison_sum ? " (POISON: freed under the reader)" : "",
               ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("hazptr-store-buffer", test_store_buffer, 0,
      "a hazard store held in the store buffer until a barrier: scans must still see it");

// ---- hazptr-reload ----
// A reader loads the current pointer, then publishes it as its hazard; a
// writer may replace the struct and scan in between, before the hazard is
// visible, and free it. Only the reload after the fence can tell: it sees
// the new pointer, and the reader protects that one instead. The window is
// a few instructions wide; here it is held open every time (the scheme's
// arm_load_window): right after the reader's first load of the pointer, on
// CPU 0 with preemption off, it waits until the writer on CPU 1 has
// replaced that struct and a scan has freed it (its bytes are poison), and
// then holds the writer, so that no new write reuses the memory, until the
// reader has read. The reader must read an intact struct and keep it while
// the writer goes on, until scans have found and kept it twice; every
// write is numbered (its first word), so a struct freed and its memory
// reused for a later write is told from the one the reader read. Shown to
// fail with the reload removed from protect() (the reader reads the freed
// struct: its checksum is poison) and with a reload that returns the new
// pointer without publishing it (a later scan frees it under the reader:
// its checksum changes).
struct reload_ctl {
    writer_ctl* writers;
    const std::atomic<uint64_t>* kept;
    size_t ls_offset = 0;                    // of the largestruct in the scheme's node
    uint64_t before = 0, after = 0, kept_seen = 0, window_writes = 0;
    bool window_opened = false, freed_in_window = false;
};

bool is_poisoned(const void* p) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < 64; ++i) if (b[i] != POISON_BYTE) return false;
    return true;
}

// hold_writer(w): stop the writer between two writes.
void hold_writer(writer_ctl* w) {
    w->held.store(true);
    while (w->writing.load()) cpu_relax();
}

void wait_until_freed(void* arg, const void* loaded) {
    auto* r = static_cast<reload_ctl*>(arg);
    r->window_opened = true;
    // The middle of the struct: the allocator keeps nothing there.
    const void* middle = static_cast<const char*>(loaded) + r->ls_offset + LS_SIZE / 2;
    uint64_t w0 = r->writers->writes.load(), give_up = clock_ns() + 5000000000UL;
    while (clock_ns() < give_up) {
        if (is_poisoned(middle)) {
            hold_writer(r->writers);
            if (is_poisoned(middle)) {       // freed, and no write can reuse it now
                r->freed_in_window = true;
                break;
            }
            r->writers->held.store(false);   // reused already: wait for the next free
        }
        cpu_relax();
    }
    r->window_writes = r->writers->writes.load() - w0;
}

void keep_until_scanned(void* arg) {
    auto* r = static_cast<reload_ctl*>(arg);
    r->writers->held.store(false);
    uint64_t k0 = r->kept->load(), w0 = r->writers->writes.load();
    uint64_t give_up = clock_ns() + 5000000000UL;
    while (r->kept->load() - k0 < 2 && r->writers->writes.load() - w0 < 2000
           && clock_ns() < give_up) {
        cpu_relax();
    }
    r->kept_seen = r->kept->load() - k0;
}

void reload_reader_fn(void* arg) {
    auto* r = static_cast<reload_ctl*>(arg);
    const ls_scheme* s = r->writers->scheme;
    {
        preempt_guard g;
        s->arm_load_window(this_cpu()->index, wait_until_freed, r);
        s->held_read(LS_SIZE, keep_until_scanned, r, &r->before, &r->after);
    }
    proc_exit(0);
}

long test_reload(long) {
    make_patterns();
    const ls_scheme* s = ls_find(LS_HAZPTR);
    if (ncpu < 2 || !scheme_for("hazptr-reload", LS_HAZPTR, false, "kept_for_reader",
                                s ? s->kept_for_reader : nullptr)) {
        return -EINVAL;
    }
    if (!s->arm_load_window) {
        log_printf("ktest hazptr-reload: no arm_load_window for scheme hazptr (kernel/ls/ls.hh)");
        return -EINVAL;
    }
    if (s->write(patterns[0], LS_SIZE) != 0) return -EINVAL;
    writer_ctl w;
    w.scheme = s;
    w.numbered = true;
    reload_ctl r;
    r.writers = &w;
    r.kept = s->kept_for_reader;
    r.ls_offset = s->current.offset;
    proc* writer = kthread_spawn_on(1, "ls-writer", writer_fn, &w);
    proc* reader = kthread_spawn_on(0, "reload-reader", reload_reader_fn, &r);
    kthread_join(reader);
    w.stop.store(true);
    kthread_join(writer);
    bool intact = r.before == r.after && r.before != poison_sum;   // numbered: no pattern sum
    bool ok = r.window_opened && r.freed_in_window && intact && r.kept_seen >= 2
              && w.errors.load() == 0;
    log_printf("ktest hazptr-reload (%s): between the reader's load and its hazard, %lu writes "
               "on cpu1 %s; scans kept the struct %lu times; checksum %#lx before, %#lx after%s: %s",
               kopts.hazptr_asym ? "asymmetric" : "symmetric", r.window_writes,
               !r.window_opened ? "(the reader never loaded the pointer)"
               : r.freed_in_window ? "freed the struct it loaded" : "(never freed it)",
               r.kept_seen,
               r.before, r.after,
               r.before == poison_sum || r.after == poison_sum ? " (POISON: freed under the reader)"
                                                                : "",
               ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}
KTEST("hazptr-reload", test_reload, 0,
      "writers replace and scan between a reader's load and its hazard: the reload must see it");

// ---- diffref-stress ----
struct stress_ctl {
    const ls_scheme* scheme;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> reads{0}, bad{0}, yields{0};
};

void maybe_yield(void* arg) {
    auto* c = static_cast<stress_ctl*>(arg);
    // Every 8th read stays held across a yield, so a writer swaps while held.
    if ((c->reads.load(std::memory_order_relaxed) & 7) == 0) {
        c->yields.fetch_add(1, std::memory_order_relaxed);
        yield();
    }
}

void stress_reader_fn(void* arg) {
    auto* c = static_cast<stress_ctl*>(arg);
    while (!c->stop.load(std::memory_order_relaxed)) {
        uint64_t before = 0, after = 0;
        c->scheme->held_read(LS_SIZE, maybe_yield, c, &before, &after);
        c->reads.fetch_add(1, std::memory_order_relaxed);
        if (before != after || !is_pattern_sum(before)) {
            if (c->bad.fetch_add(1) == 0) {
                log_printf("ktest diffref-stress: reader saw checksum %#lx then %#lx%s", before, after,
                           after == poison_sum || before == poison_sum ? " (POISON)" : "");
            }
        }
    }
    proc_exit(0);
}

long test_diffref_stress(long ms) {
    make_patterns();
    const ls_scheme* s = ls_find(LS_DIFFREF);
    if (!scheme_for("diffref-stress", LS_DIFFREF, true, "waiting", s ? s->waiting : nullptr)) return -EINVAL;
    if (s->write(patterns[0], LS_SIZE) != 0) return -EINVAL;
    long waiting0 = s->waiting->load();
    stress_ctl c;
    c.scheme = s;
    proc* readers[MAXCPU] = {};
    for (int i = 0; i < ncpu; ++i) readers[i] = kthread_spawn_on(i, "diffref-reader", stress_reader_fn, &c);
    uint64_t writes = 0, end = clock_ns() + uint64_t(ms) * 1000000;
    long errors = 0;
    while (clock_ns() < end) {
        errors += s->write(patterns[1 + writes % (NPAT - 1)], LS_SIZE) != 0;
        ++writes;
    }
    c.stop.store(true);
    for (proc* p : readers) if (p) kthread_join(p);
    long waiting = s->waiting->load();
    bool ok = c.bad.load() == 0 && errors == 0 && waiting == 0 && waiting0 == 0 && writes >= 100 &&
              c.reads.load() >= 100;
    log_printf("ktest diffref-stress: %lu writes, %lu reads (%lu held across a yield) on %d CPUs, "
               "%lu saw a changed or freed struct; old structs not yet freed before %ld, after %ld "
               "(want 0): %s",
               writes, c.reads.load(), c.yields.load(), ncpu, c.bad.load(), waiting0, waiting,
               ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}

// ---- lopsided-bounded ----
constexpr int HIST_US = 4096;              // 1 us buckets; the last one is "more"
std::atomic<uint32_t> section_hist[2][HIST_US];
std::atomic<uint64_t> section_max_ns[2];
std::atomic<uint64_t> fast_sections{0};      // sections completed, both phases

struct bounded_ctl {
    const ls_scheme* scheme;
    std::atomic<int> phase{0};             // 0: unloaded, 1: writer spinning, 2: stop
    uint64_t hold_ns = 0;
    std::atomic<uint64_t> slow_sections{0};
    std::atomic<long> bad{0};
};

// A fast reader: one section after another, each timed with preemption
// off so that only the section (and interrupts) is measured.
void fast_reader_fn(void* arg) {
    auto* b = static_cast<bounded_ctl*>(arg);
    const ls_scheme* s = b->scheme;
    int ph;
    while ((ph = b->phase.load(std::memory_order_relaxed)) < 2) {
        preempt_disable();
        uint64_t t0 = clock_ns();
        long sum = s->read(LS_SIZE);
        uint64_t dt = clock_ns() - t0;
        preempt_enable();
        if (!is_pattern_sum(uint64_t(sum))) b->bad.fetch_add(1);
        section_hist[ph][min<uint64_t>(dt / 1000, HIST_US - 1)].fetch_add(1, std::memory_order_relaxed);
        if (dt > section_max_ns[ph].load(std::memory_order_relaxed)) section_max_ns[ph].store(dt);
        fast_sections.fetch_add(1, std::memory_order_relaxed);
    }
    proc_exit(0);
}

void spin_hold(void* arg) { delay_ns(static_cast<bounded_ctl*>(arg)->hold_ns); }

// The slow reader: hold_ns-long sections with a 1 ms gap between them.
void slow_reader_fn(void* arg) {
    auto* b = static_cast<bounded_ctl*>(arg);
    while (b->phase.load() < 2) {
        uint64_t before = 0, after = 0;
        b->scheme->held_read(LS_SIZE, spin_hold, b, &before, &after);
        if (before != after || !is_pattern_sum(before)) b->bad.fetch_add(1);
        b->slow_sections.fetch_add(1);
        msleep(1);
    }
    proc_exit(0);
}

// percentile(ph, permille): the section time (us) below which permille/1000
// of phase ph's sections fall; *count gets the number of sections.
uint64_t percentile(int ph, uint64_t permille, uint64_t* count) {
    uint64_t n = 0;
    for (auto& b : section_hist[ph]) n += b.load();
    *count = n;
    uint64_t want = n * permille / 1000, seen = 0;
    for (int us = 0; us < HIST_US; ++us) {
        seen += section_hist[ph][us].load();
        if (seen > want) return uint64_t(us) + 1;
    }
    return HIST_US;
}

long test_lopsided_bounded(long hold_ms) {
    if (ncpu < 3) {
        log_printf("ktest lopsided-bounded: needs 3 CPUs (writer, slow reader, fast readers)");
        return -EINVAL;
    }
    make_patterns();
    const ls_scheme* s = scheme_for("lopsided-bounded", LS_LOPSIDED, false);
    if (!s || s->write(patterns[0], LS_SIZE) != 0) return -EINVAL;
    for (auto& h : section_hist) for (auto& b : h) b.store(0);
    for (auto& m : section_max_ns) m.store(0);
    bounded_ctl b;
    b.scheme = s;
    b.hold_ns = uint64_t(hold_ms) * 1000000;
    proc* fast[MAXCPU] = {};
    for (int i = 2; i < ncpu; ++i) fast[i] = kthread_spawn_on(i, "fast-reader", fast_reader_fn, &b);
    uint64_t t0 = clock_ns();
    msleep(200);                                   // unloaded: no writer, no slow reader
    uint64_t unloaded_ns = clock_ns() - t0;
    writer_ctl w;
    w.scheme = s;
    w.pause_ms = 2;
    w.progress = &fast_sections;
    w.long_write_ns = b.hold_ns / 4;
    b.phase.store(1);                              // loaded from here on
    proc* slow = kthread_spawn_on(1, "slow-reader", slow_reader_fn, &b);
    proc* writer = kthread_spawn_on(0, "ls-writer", writer_fn, &w);
    msleep(uint64_t(hold_ms) * 20);
    b.phase.store(2);
    w.stop.store(true);
    kthread_join(writer);
    kthread_join(slow);
    for (proc* p : fast) if (p) kthread_join(p);

    // Section length: the loaded p99 within 20x the unloaded one. Progress,
    // counted rather than timed (a busy host can stop the fast readers'
    // vCPUs for much of a write): while a writer spun for a slow reader,
    // fast readers completed at least PROGRESS_PER_WRITE sections per
    // fast reader per long write. A reader that waited for the writer
    // completes at most the one section it was in when the writer began.
    uint64_t n0, n1;
    uint64_t p99_0 = percentile(0, 990, &n0), p99_1 = percentile(1, 990, &n1);
    uint64_t long_writes = w.long_writes.load(), long_ns = w.long_write_ns_total.load();
    uint64_t rate0 = n0 * 1000000000 / unloaded_ns;
    uint64_t rate_waiting = long_ns ? w.progress_in_long_writes.load() * 1000000000 / long_ns : 0;
    log_printf("ktest lopsided-bounded: unloaded: %lu sections, %lu/s, p99 %lu us, max %lu us", n0, rate0,
               p99_0, section_max_ns[0].load() / 1000);
    log_printf("ktest lopsided-bounded: writer spinning: %lu sections, p99 %lu us, max %lu us; "
               "%lu of %lu writes waited >= %ld us (mean %lu us), readers meanwhile %lu sections, %lu/s",
               n1, p99_1, section_max_ns[1].load() / 1000, long_writes, w.writes.load(), hold_ms * 250,
               long_writes ? long_ns / long_writes / 1000 : 0, w.progress_in_long_writes.load(), rate_waiting);
    bool writer_waited = long_writes >= 3;
    uint64_t p99_limit = max<uint64_t>(20 * p99_0, 200);   // a floor for a quiet unloaded run
    bool bounded = p99_1 <= p99_limit;
    constexpr uint64_t PROGRESS_PER_WRITE = 10;
    uint64_t nfast = uint64_t(ncpu - 2);
    bool progressed = w.progress_in_long_writes.load() >= PROGRESS_PER_WRITE * nfast * long_writes;
    bool ok = n0 >= 100 && n1 >= 100 && writer_waited && bounded && progressed && b.bad.load() == 0 &&
              !w.errors.load();
    log_printf("ktest lopsided-bounded: readers' p99 %s (limit %lu us), readers %s while the "
               "writer spun, writer %s, %ld bad reads: %s", bounded ? "bounded" : "NOT BOUNDED", p99_limit,
               progressed ? "progressed" : "did NOT progress",
               writer_waited ? "waited long" : "did NOT wait long", b.bad.load(), ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}

// scheme_settle(id): reclaim whatever scheme `id` has deferred.
long scheme_settle(long id) {
    const ls_scheme* s = id >= 0 && id < LS_NSCHEMES ? ls_find(int(id)) : nullptr;
    if (!s) return -EINVAL;
    if (s->settle) s->settle();
    return 0;
}

}  // namespace

KTEST("hazptr-sleep", [](long ms) { return test_sleeping_reader("hazptr-sleep", LS_HAZPTR, ms); }, 20,
      "a hazard-pointer reader sleeps ARG ms (and until scans kept its struct) while writers replace it");
KTEST("refcount-sleep", [](long ms) { return test_sleeping_reader("refcount-sleep", LS_REFCOUNT, ms); }, 20,
      "a reader holding a reference sleeps ARG ms while writers replace its struct");
KTEST("diffref-stress", test_diffref_stress, 1000,
      "ARG ms: readers on every CPU against a writer; no struct changes or leaks under a reader");
KTEST("lopsided-bounded", test_lopsided_bounded, 20,
      "(3+ CPUs) a slow reader holds ARG ms sections: fast readers' sections stay short");
KTEST("scheme-settle", scheme_settle, 0,
      "not a test: reclaim everything scheme ARG has deferred, so memory counts compare");
