// kernel/ls/ls.hh: the lecture's largestruct, and the interface every
// protection scheme implements.
//
// sys_lsread(scheme, len) and sys_lswrite(scheme, buf, len) (ls.cc) check
// their arguments and copy user bytes into the kernel, then call the
// scheme's read or write. A scheme is one file (kernel/ls_NAME.cc) that
// defines an `ls_scheme` and registers it with LS_SCHEME(...); nothing else
// needs to change to add one.
#pragma once
#include "kernel.hh"
#include "rcu.hh"
#include "kalloc.hh"
#include <new>

struct largestruct {
    char c[LS_SIZE];
};

struct ls_scheme {
    int id;                                  // LS_RCU, ... (abi.hh)
    const char* name;
    void (*init)();                          // at boot: an all-zero struct
    // read(len): checksum of the first len bytes of the current struct,
    // computed inside the scheme's read-side section.
    long (*read)(size_t len);
    // write(data, len): a new struct = the current one with its first len
    // bytes replaced by data (a kernel buffer), published atomically; the
    // old one reclaimed by the scheme's rules. 0 or -errno.
    long (*write)(const char* data, size_t len);
};

// LS_SCHEME(var): put the scheme descriptor `var` in the kernel's table.
#define LS_SCHEME(var) \
    __attribute__((used, section(".ls_schemes"))) static const ls_scheme* const var##_entry = &var

// Helpers shared by the schemes.
// ls_new_copy(old, data, len): kmalloc a T (which begins with or contains a
// largestruct `ls`), copy old's bytes (zeros if old is null), then data.
// nullptr when memory is short: the copy is made for a user's write, so it
// may not take the kernel's reserve (alloc_for::user), and the scheme then
// returns -ENOMEM leaving the current struct as it was.
template <typename T>
[[nodiscard]] T* ls_new_copy(const T* old, const char* data, size_t len) {
    void* mem = kmalloc(sizeof(T), alloc_for::user);
    if (!mem) return nullptr;
    T* n = new (mem) T;
    if (old) memcpy(n->ls.c, old->ls.c, LS_SIZE); else memset(n->ls.c, 0, LS_SIZE);
    memcpy(n->ls.c, data, len);
    return n;
}
const ls_scheme* ls_find(int id);
