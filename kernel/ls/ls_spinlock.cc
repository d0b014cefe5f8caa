// kernel/ls/ls_spinlock.cc: LS_SPINLOCK, one spinlock around reads and writes.
// Simple and correct, but readers exclude each other: only one CPU can be
// reading at a time, so reads do not scale.
#include "ls.hh"
#include "spinlock.hh"

namespace {
largestruct the_ls;                  // zero at boot
spinlock lock{"ls.writers"};

void init() {}

long read(size_t len) {
    spinlock_guard g(lock);
    return long(ls_checksum(the_ls.c, len));
}

long write(const char* data, size_t len) {
    spinlock_guard g(lock);
    memcpy(the_ls.c, data, len);
    return 0;
}

constexpr ls_scheme scheme = {
    .id = LS_SPINLOCK,
    .name = "spinlock",
    .init = init,
    .read = read,
    .write = write,
    .current = ls_current_in_place(the_ls),
};
LS_SCHEME(scheme);
}
