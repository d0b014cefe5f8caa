// kernel/ktest/ktest.hh: the kernel self-test registry.
//
// A self-test is a function `long fn(long arg)` that returns 0 (or any
// non-negative number) on success and a negative number on failure, and
// logs what it checked. It registers itself in its own file, next to its
// function:
//
//     KTEST("rcu-nested", [](long ms) { return test_wait_reader("rcu-nested", 2, false, ms); },
//           50, "synchronize_rcu waits for the outer of two nested read sections");
//
// Nothing else in the kernel changes to add one: `ktest NAME [ARG]` (user
// program) calls sys_ktest(NAME, ARG), and run_ktest (ktest.cc) finds the
// entry by name in the linker section .ktests (link.ld). `ktest --list`
// prints every entry with its description. `ktest busted:NAME` runs any
// test with RCU's grace periods skipped (rcu_busted), to show that it
// fails when RCU is broken.
#pragma once
#include "kernel.hh"

struct ktest {
    const char* name;          // what `ktest NAME` says; unique, under 64 characters
    long (*fn)(long arg);
    // default_arg: what fn gets when the caller's arg is 0 or negative
    // (`ktest NAME` with no ARG passes 0). 0: fn gets arg as given.
    long default_arg;
    const char* description;   // one line, for `ktest --list`
};

#define KTEST_CONCAT2(a, b) a##b
#define KTEST_CONCAT(a, b) KTEST_CONCAT2(a, b)

// KTEST(name, fn, default_arg, description): register a self-test (see
// above). fn may be a function or a lambda that captures nothing. The
// section holds pointers, as .ls_schemes does: entries of one size, no
// padding for the compiler to add between them.
#define KTEST(name, fn, default_arg, description)                                       \
    static const ktest KTEST_CONCAT(ktest_, __LINE__){name, fn, default_arg, description}; \
    __attribute__((used, section(".ktests"))) static const ktest* const                 \
        KTEST_CONCAT(ktest_entry_, __LINE__) = &KTEST_CONCAT(ktest_, __LINE__)

// ktest_print_list(): one line per registered self-test, sorted by name:
// "  NAME  [default ARG]  DESCRIPTION" (sys_kprint("tests")).
void ktest_print_list();

// free_pages_settled(expected): the free-page count once deferred frees
// have landed: while it differs from `expected`, run rcu_barrier and wait a
// little (up to ~0.5 s). A leaked page never comes back; a callback queued
// at the last moment (say, from a timer interrupt) does.
size_t free_pages_settled(size_t expected);
