// host/tests/test_schemes.cc: every largestruct scheme (kernel/ls/) on host
// threads, and LS_RCU's writers in a storm.
//
// hammer-NAME, one per scheme of lib/abi.hh's LS_SCHEMES: two writers write
// whole patterns while two readers read, and every checksum a reader gets
// must be that of a whole pattern (user/hammer.cc's argument); afterwards
// the scheme settles and nothing waits to be reclaimed. Under
// AddressSanitizer a struct freed under a reader is a use after free;
// under ThreadSanitizer a read not ordered after the write that made the
// struct (or before the free that ends it) is a data race. By kind:
// a `consistent` scheme must pass silently; `broken` (busted: no grace
// period) must be flagged by AddressSanitizer; `unprotected` (none: writes
// in place under readers) must be flagged by ThreadSanitizer.
//
// rcu-publish: a writer publishes new objects with rcu_ptr::publish (a
// release store) while a reader checks them. Its broken twin
// busted-rcu-publish uses rcu_ptr::init (no ordering) to publish: x86
// keeps the stores in order anyway, so the reader never sees a half-made
// object and only ThreadSanitizer can flag the missing release.
#include "host_test.hh"
#include <sched.h>
#include <string>
#include <vector>

namespace {
constexpr int HAMMER_WRITES = 150;        // per writer at least, for a scheme that must pass...
constexpr long HAMMER_READS = 1500;       // ...and until the readers have done this many meanwhile
// A scheme that must be caught: writers go on until this many full reads
// each saw two writes complete while it ran, so that the second one
// replaced (and, in a broken scheme, freed or overwrote) the very struct
// the read was in. However the host schedules the threads, the run ends
// only once the sanitizer has had that many chances.
constexpr long BROKEN_OVERLAPS = 200;

// hammer(id): two writers, two readers on scheme id (see the top).
bool hammer(long id) {
    const ls_scheme* s = ls_find(int(id));
    const ls_scheme_entry* e = ls_scheme_entry_of(int(id));
    if (!check(s && e, "no scheme %ld", id)) return false;
    bool consistent = e->kind == ls_kind::consistent;
    s->write(pattern(1), LS_SIZE);        // a whole pattern to begin with (rcu-storm writes 8 bytes)
    std::atomic<int> writers_done{0};
    std::atomic<long> reads{0}, written{0}, overlapped{0}, inconsistent{0};
    auto more_writes = [&](int k) {
        return consistent ? k < HAMMER_WRITES || reads.load() < HAMMER_READS
                          : overlapped.load() < BROKEN_OVERLAPS;
    };
    run_cpus(4, [&](int i) {
        if (i < 2) {
            for (int k = 0; more_writes(k); ++k) {
                long r = s->write(pattern(1 + (i * 7 + k) % NPATTERNS), LS_SIZE);
                check(r == 0, "%s write returned %ld", e->name, r);
                written.fetch_add(1);
                host_quiescent_state();
            }
            writers_done.fetch_add(1);
        } else {
            for (long n = 1; writers_done.load(std::memory_order_relaxed) < 2; ++n) {
                size_t len = consistent && n % 2 ? 8 : LS_SIZE;
                long before = written.load();
                inconsistent.fetch_add(!checksum_expected(len, uint64_t(s->read(len))),
                                       std::memory_order_relaxed);
                if (written.load() >= before + 2) overlapped.fetch_add(1, std::memory_order_relaxed);
                if (n % 16 == 0) {
                    reads.fetch_add(16);
                    host_quiescent_state();
                    sched_yield();        // more threads than cores: let the writers run
                }
            }
        }
    });
    if (s->settle) s->settle();
    note("%ld reads, %ld writes, %ld reads overlapped by two writes, %ld inconsistent", reads.load(),
         written.load(), overlapped.load(), inconsistent.load());
    if (s->waiting) {
        check(s->waiting->load() == 0, "%ld structs still wait to be reclaimed after settling",
              s->waiting->load());
    }
    return !consistent || check(inconsistent.load() == 0, "%ld inconsistent reads", inconsistent.load());
}

// with_option(flag, fn, arg): fn(arg) with a boot option set.
template <bool boot_options::*flag>
bool with_option(long id) {
    kopts.*flag = true;
    bool ok = hammer(id);
    kopts.*flag = false;
    return ok;
}

// storm(sync): three LS_RCU writers and a reader; afterwards rcu_barrier
// leaves no callback and no struct waiting. sync: ls_sync=1 (writers wait
// in synchronize_rcu instead of call_rcu).
bool storm(long sync) {
    kopts.ls_sync = sync;
    const ls_scheme* s = ls_find(LS_RCU);
    std::atomic<int> writers_done{0};
    run_cpus(4, [&](int i) {
        if (i < 3) {
            for (int k = 0; k < (sync ? 300 : 1000); ++k) {     // a grace period per write with sync
                check(s->write(pattern(1 + k % NPATTERNS), 8) == 0, "write failed");
                if (k % 8 == 0) host_quiescent_state();
            }
            writers_done.fetch_add(1);
        } else {
            for (long n = 1; writers_done.load(std::memory_order_relaxed) < 3; ++n) {
                check(checksum_expected(8, uint64_t(s->read(8))), "inconsistent read");
                if (n % 16 == 0) host_quiescent_state();
            }
        }
    });
    rcu_barrier();
    kopts.ls_sync = false;
    note("%lu grace periods so far", rcu_completed_gp());
    return check(s->waiting->load() == 0, "%ld old structs not freed after rcu_barrier", s->waiting->load());
}

struct pnode {
    uint64_t words[32];
    rcu_head rcu;
};
rcu_ptr<pnode> published;

// publish(relaxed): a writer makes objects whose words all hold its
// generation and publishes each; a reader checks every object it finds.
bool publish(long relaxed) {
    pnode* current = new pnode{};     // the one writer's own copy of the pointer
    published.init(current);
    std::atomic<bool> stop{false};
    std::atomic<long> torn{0}, fresh{0};
    run_cpus(2, [&](int i) {
        if (i == 0) {
            // Until the reader has met 1000 objects it had not seen before:
            // a missing release has that many chances to be seen.
            for (uint64_t gen = 1; gen <= 3000 || fresh.load() < 1000; ++gen) {
                pnode* n = new pnode;
                for (uint64_t& w : n->words) w = gen;
                if (relaxed) published.init(n);     // BUG in the broken twin: no release
                else published.publish(n);
                rcu_free(current);
                current = n;
                if (gen % 4 == 0) host_quiescent_state();
            }
            stop.store(true);
        } else {
            uint64_t last = 0;
            for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
                {
                    rcu_read_guard g;
                    const pnode* p = published.load();
                    for (uint64_t w : p->words) torn.fetch_add(w != p->words[0], std::memory_order_relaxed);
                    if (p->words[0] != last) fresh.fetch_add(1, std::memory_order_relaxed);
                    last = p->words[0];
                }
                if (n % 16 == 0) host_quiescent_state();
            }
        }
    });
    rcu_barrier();
    delete published.exchange(nullptr);
    return check(torn.load() == 0, "%ld torn words seen", torn.load());
}

HOST_TEST(ls_sync, "hammer-rcu-ls_sync", with_option<&boot_options::ls_sync>, LS_RCU, nullptr,
          "LS_RCU with ls_sync=1: writers wait in synchronize_rcu");
HOST_TEST(hazptr_asym, "hammer-hazptr-asym", with_option<&boot_options::hazptr_asym>, LS_HAZPTR,
          nullptr, "LS_HAZPTR with hazptr_asym=1: fence-free readers, membarrier(2) in the scanner");
HOST_TEST(storm_cb, "rcu-storm", storm, 0, nullptr,
          "three LS_RCU writers with call_rcu: nothing left after rcu_barrier");
HOST_TEST(storm_sync, "rcu-storm-sync", storm, 1, nullptr,
          "three LS_RCU writers with synchronize_rcu: nothing left after rcu_barrier");
HOST_TEST(publish_release, "rcu-publish", publish, 0, nullptr,
          "objects published with rcu_ptr::publish are whole to a reader");
HOST_TEST(publish_relaxed, "busted-rcu-publish", publish, 1, "tsan",
          "rcu-publish with rcu_ptr::init instead of publish: no release on publish");

// One hammer per scheme, derived from LS_SCHEMES.
struct hammers {
    std::vector<std::string> names;
    std::vector<host_test_registration> registered;
    hammers() {
        names.reserve(LS_NSCHEMES);
        registered.reserve(LS_NSCHEMES);
        for (const ls_scheme_entry& e : LS_SCHEME_TABLE) {
            names.push_back(std::string("hammer-") + e.name);
            const char* broken = e.kind == ls_kind::consistent ? nullptr
                : e.kind == ls_kind::broken ? "asan" : "tsan";
            registered.emplace_back(host_test{names.back().c_str(), hammer, e.number, broken,
                                              "two writers and two readers; every read a whole pattern"});
        }
    }
} hammers_;
}
