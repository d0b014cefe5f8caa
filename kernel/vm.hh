// kernel/vm.hh: page tables and user memory (vm.cc).
#pragma once
#include "kernel.hh"

// The kernel's own page table: the boot one, whose upper half every user
// page table shares (kernel threads and idle tasks run on it).
extern uint64_t* kernel_pagetable;

constexpr uintptr_t USER_STACK_TOP = 0x7ffffff000UL;   // stack grows down from here
constexpr size_t USER_STACK_PAGES = 16;

// Everything these allocate is for user space (alloc_for::user in
// kalloc.hh): it fails, leaving nothing allocated, when memory is short.
[[nodiscard]] uint64_t* pt_create();                   // empty user half, shared kernel half
void pt_destroy(uint64_t* pml4);                       // free user pages and tables
[[nodiscard]] bool pt_map(uint64_t* pml4, uintptr_t va, uintptr_t pa, uint64_t perm);
[[nodiscard]] uint64_t* pt_lookup(uint64_t* pml4, uintptr_t va);   // the PTE, or nullptr
[[nodiscard]] uint64_t* pt_clone(uint64_t* pml4);      // fork: copy every user page

// user_range_ok(pt, va, n, write): is [va, va+n) user memory mapped in pt,
// writable if `write`? System calls check every pointer with this before
// touching it; a failed check is -EFAULT.
[[nodiscard]] bool user_range_ok(uint64_t* pml4, uintptr_t va, size_t n, bool write);
// user_string_ok(pt, s, max, &len): is there a readable user string at s?
// Sets len to its length, or to `max` when no NUL comes within max bytes
// (too long: the caller picks the errno). False only for a bad pointer.
[[nodiscard]] bool user_string_ok(uint64_t* pml4, uintptr_t s, size_t max, size_t* len);
