// host/tests/host_test.hh: the host tests' registry and helpers. Each test
// is a function registered with HOST_TEST in the file of its area
// (test_rcu.cc, test_schemes.cc); host/tests/run.py runs them all under
// ThreadSanitizer and under AddressSanitizer, and each broken variant
// alone, expecting the sanitizer it names to flag it.
#pragma once
#include "port.hh"
#include "rcu.hh"
#include "ls/ls.hh"
#include <atomic>
#include <functional>

// One test: fn(arg) returns false (or calls check() with false) on a
// failure. `broken`: nullptr for a test of the real code, which must pass
// with no sanitizer report; for a deliberately broken variant, the
// sanitizers that must flag it ("asan", "tsan" or "asan,tsan").
struct host_test {
    const char* name;
    bool (*fn)(long arg);
    long arg;
    const char* broken;
    const char* what;
};

// HOST_TEST(var, name, fn, arg, broken, what): register a test.
#define HOST_TEST(var, name, fn, arg, broken, what) \
    static const host_test_registration var{{name, fn, arg, broken, what}}

// host_test_registration r{test}: put `test` in the registry (at startup;
// a file may also register tests it derives from a table).
struct host_test_registration {
    explicit host_test_registration(host_test t);
};

// check(cond, fmt, ...): if cond is false, print why (with the test's
// name) and count a failure; returns cond.
bool check(bool cond, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// note(fmt, ...): print one line of what a test saw (counts, for the log).
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// run_cpus(n, fn): n threads, each attached as a CPU, run fn(i) for i in
// [0, n) and are joined; they start together (after every one attached).
void run_cpus(int n, const std::function<void(int)>& fn);

// wait_for(cond): yield until cond() holds (the caller's CPU passes
// quiescent states meanwhile if `quiescent`, else stays as it is).
void wait_for(const std::function<bool()>& cond, bool quiescent = false);

// The patterns writers write and the checksums a reader may see
// (user/hammer.cc's argument: two patterns differ in every byte, so a torn
// read matches none of them).
constexpr int NPATTERNS = 16;
const char* pattern(int k);                  // k in 1..NPATTERNS
bool checksum_expected(size_t len, uint64_t sum);   // zeros or some pattern; len 8 or LS_SIZE
