// host/tests/test_main.cc: `host_test [--list] [NAME...]`: run the host tests
// (all tests of the real code when no NAME is given; a broken variant
// only by name). Prints one line per test and exits 0 when all passed.
// host/tests/run.py runs it under each sanitizer.
#include "host_test.hh"
#include <cstdarg>
#include <cstdio>
#include <sched.h>
#include <thread>
#include <vector>

void ls_init();

namespace {
std::vector<host_test>& registry() {
    static std::vector<host_test> tests;
    return tests;
}
const char* running = "?";
std::atomic<int> failures{0};

char patterns[NPATTERNS][LS_SIZE];
uint64_t expected_short[NPATTERNS + 1], expected_full[NPATTERNS + 1];

// make_patterns(): the patterns and their checksums (index 0: all zeros).
void make_patterns() {
    static const char zeros[LS_SIZE] = {};
    expected_short[0] = ls_checksum(zeros, 8);
    expected_full[0] = ls_checksum(zeros, LS_SIZE);
    for (int k = 1; k <= NPATTERNS; ++k) {
        for (size_t i = 0; i < LS_SIZE; ++i) patterns[k - 1][i] = char((k * 131 + i * 7 + (i >> 8)) & 0xff);
        expected_short[k] = ls_checksum(patterns[k - 1], 8);
        expected_full[k] = ls_checksum(patterns[k - 1], LS_SIZE);
    }
}
}

host_test_registration::host_test_registration(host_test t) { registry().push_back(t); }

bool check(bool cond, const char* fmt, ...) {
    if (cond) return true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "host_test %s: FAIL: %s\n", running, msg);
    failures.fetch_add(1);
    return false;
}

void note(const char* fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "host_test %s: %s\n", running, msg);
}

void run_cpus(int n, const std::function<void(int)>& fn) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            host_cpu_guard cpu;
            ready.fetch_add(1);
            while (ready.load() < n) sched_yield();
            fn(i);
        });
    }
    // This thread may be a CPU: offline while it waits, or every grace
    // period would wait for it.
    bool online = host_cpu_is_online();
    if (online) host_cpu_offline();
    for (auto& t : threads) t.join();
    if (online) host_cpu_online();
}

void wait_for(const std::function<bool()>& cond, bool quiescent) {
    while (!cond()) {
        if (quiescent) host_quiescent_state();
        sched_yield();
    }
}

const char* pattern(int k) { return patterns[k - 1]; }

bool checksum_expected(size_t len, uint64_t sum) {
    const uint64_t* e = len == LS_SIZE ? expected_full : expected_short;
    for (int k = 0; k <= NPATTERNS; ++k) {
        if (e[k] == sum) return true;
    }
    return false;
}

int main(int argc, char** argv) {
    make_patterns();
    std::vector<const host_test*> chosen;
    bool list = argc > 1 && strcmp(argv[1], "--list") == 0;
    for (const host_test& t : registry()) {
        bool named = false;
        for (int i = 1; i < argc; ++i) named |= strcmp(argv[i], t.name) == 0;
        if (list) printf("%s %s %s\n", t.name, t.broken ? t.broken : "-", t.what);
        else if (named || (argc == 1 && !t.broken)) chosen.push_back(&t);
    }
    if (list) return 0;
    if (chosen.empty()) {
        fprintf(stderr, "usage: host_test [--list] [NAME...]: no test of that name\n");
        return 2;
    }
    host_cpu_guard cpu;              // the main thread is a CPU too
    ls_init();
    int passed = 0;
    for (const host_test* t : chosen) {
        running = t->name;
        int before = failures.load();
        bool ok = t->fn(t->arg) && failures.load() == before;
        fprintf(stderr, "host_test %s: %s\n", t->name, ok ? "PASS" : "FAIL");
        passed += ok;
    }
    fprintf(stderr, "host_test: %d of %zu passed\n", passed, chosen.size());
    return passed == int(chosen.size()) ? 0 : 1;
}
