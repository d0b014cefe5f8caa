// host/bench/bench.hh: one implementation that host_bench measures: a
// largestruct (LS_SIZE bytes) that readers checksum and a writer changes.
// Every implementation is driven by the same loop (host_bench.cc) through
// these function pointers, so each read costs one indirect call
// everywhere: Grace's schemes (their own kernel/ls read and write),
// liburcu's flavors (urcu_flavor.cc), pthread_rwlock and an empty read.
#pragma once
#include <stddef.h>

struct bench_impl {
    const char* name;
    const char* kind;              // "grace", "liburcu", "lock" or "limit"
    void (*thread_begin)();        // on each measuring thread, before it starts (nullptr: nothing)
    void (*thread_end)();
    // read(len): the checksum of the current struct's first len bytes.
    long (*read)(size_t len);
    // write(data, len): replace the first len bytes (nullptr: no writer).
    long (*write)(const char* data, size_t len);
    void (*quiescent)();           // after every 1024 reads and every write (QSBR flavors)
    void (*settle)();              // after a measurement with a writer: reclaim what waits
};

extern const bench_impl urcu_qsbr_impl;
extern const bench_impl urcu_memb_impl;
