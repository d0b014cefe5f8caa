// kernel/ls/ls.hh: the lecture's largestruct, and the interface every
// protection scheme implements.
//
// sys_lsread(scheme, len) and sys_lswrite(scheme, buf, len) (ls.cc) check
// their arguments and copy user bytes into the kernel, then call the
// scheme's read or write. The schemes are listed once, in lib/abi.hh's
// LS_SCHEMES (number, name, kind, storage). Each is one file,
// kernel/ls/ls_NAME.cc, that defines a constexpr `ls_scheme` saying
// everything the rest of the kernel, the self-tests and GDB need to know
// about it, and registers it with LS_SCHEME(...). Adding a scheme is one
// line in LS_SCHEMES plus that file: at boot ls_init checks that the two
// agree, and everything else finds the scheme through the registry.
#pragma once
#include "kernel.hh"
#include "rcu.hh"
#include "kalloc.hh"
#include <new>

struct largestruct {
    char c[LS_SIZE];
};

// Where a scheme's current struct is, in a form GDB can read from memory
// without calling the kernel (tools/gdb/grace.py's grace-ls). Make one
// with ls_current_in_place, ls_current_pointer or ls_current_pointer48.
enum class ls_where : int {
    in_place,     // `at` is the largestruct itself (ls_storage::in_place)
    pointer,      // `at` is one pointer word (T*, std::atomic<T*>, rcu_ptr<T>)
                  // naming a node; the struct is `offset` bytes into it
    pointer48,    // `at` is a 64-bit word: the node's address in its low 48
                  // bits (sign-extended from bit 47), a count above them
};

struct ls_current {
    const void* at;
    ls_where how;
    size_t offset;            // of the largestruct in the node
};

// ls_current_in_place(ls): a scheme that writes `ls` in place.
constexpr ls_current ls_current_in_place(const largestruct& ls) {
    return {&ls, ls_where::in_place, 0};
}

// ls_current_pointer<Node>(word): the current struct is word's Node's `ls`.
template <typename Node, typename Word>
constexpr ls_current ls_current_pointer(const Word& word) {
    static_assert(sizeof(Word) == sizeof(Node*), "the current pointer must be one word");
    return {&word, ls_where::pointer, offsetof(Node, ls)};
}

// ls_current_pointer48<Node>(word): as ls_current_pointer, for a pointer
// packed in the low 48 bits of a 64-bit word.
template <typename Node, typename Word>
constexpr ls_current ls_current_pointer48(const Word& word) {
    static_assert(sizeof(Word) == sizeof(uint64_t), "the packed pointer must be one 64-bit word");
    return {&word, ls_where::pointer48, offsetof(Node, ls)};
}

// held_read(len, while_held, arg, before, after): one read that keeps its
// struct while while_held(arg) runs; *before and *after get the checksum
// of the struct's first len bytes taken before and after it.
using ls_held_read_fn = void (*)(size_t len, void (*while_held)(void*), void* arg,
                                 uint64_t* before, uint64_t* after);

struct ls_scheme {
    int id;                                  // LS_RCU, ... (lib/abi.hh)
    const char* name;                        // as in LS_SCHEMES (checked)
    void (*init)();                          // at boot: an all-zero struct
    // read(len): checksum of the first len bytes of the current struct,
    // computed inside the scheme's read-side section.
    long (*read)(size_t len);
    // write(data, len): a new struct = the current one with its first len
    // bytes replaced by data (a kernel buffer), published atomically; the
    // old one reclaimed by the scheme's rules. 0 or -errno.
    long (*write)(const char* data, size_t len);

    // Where the current struct is (for GDB).
    ls_current current;
    // What waits to be reclaimed (for GDB and the self-tests): `waiting`
    // counts the structs removed (no longer current) but not yet freed,
    // and `waiting_what` says what they wait for ("retired structs waiting
    // for the next scan of the hazard slots"). A scheme that never keeps a
    // removed struct has no counter (nullptr), and `waiting_what` says why
    // (an in-place scheme may leave both null).
    const std::atomic<long>* waiting = nullptr;
    const char* waiting_what = nullptr;

    // Optional hooks for kernel/ktest/ktest_schemes.cc (null if absent).
    ls_held_read_fn held_read = nullptr;     // see ls_held_read_fn
    bool held_read_may_sleep = false;        // while_held may sleep or yield
    // Counts each time reclamation found a removed struct that a reader
    // still held, and kept it.
    const std::atomic<uint64_t>* kept_for_reader = nullptr;
    // arm_load_window(cpu, fn, arg) (debug builds): the next load of the
    // current pointer on CPU `cpu` runs fn(arg, node) before it returns
    // (node: the pointer it loaded), as if the reader were held up right
    // after that load.
    void (*arm_load_window)(int cpu, void (*fn)(void*, const void*), void* arg) = nullptr;
    // settle(): reclaim everything the scheme has deferred, now; with no
    // reader running, `waiting` is 0 afterwards.
    void (*settle)() = nullptr;
};

// LS_SCHEME(var): put the scheme descriptor `var` (a constexpr ls_scheme)
// in the kernel's registry. Its id and name must agree with LS_SCHEMES.
#define LS_SCHEME(var)                                                                  \
    static_assert(ls_names_equal(ls_scheme_name(var.id), var.name),                     \
                  "LS_SCHEME(" #var "): id and name disagree with lib/abi.hh's LS_SCHEMES"); \
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
// ls_find(id): scheme id's descriptor, or nullptr for an unknown id.
const ls_scheme* ls_find(int id);
