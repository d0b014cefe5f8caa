// kernel/kalloc.hh: physical pages and the kernel heap.
//
// Pages come from a buddy allocator (pmem.cc) over the RAM the boot memory
// map reports; the heap (kmalloc.cc) carves small objects out of pages.
// Both are safe on every CPU and in interrupt handlers. With the `poison`
// boot option (on by default) freed memory is filled with POISON_BYTE and
// checked when it is handed out again, so a write after free panics and a
// read after free sees 0x6b6b6b6b...
#pragma once
#include <stddef.h>
#include <stdint.h>

constexpr uint8_t POISON_BYTE = 0x6b;
constexpr uint64_t POISON_WORD = 0x6b6b6b6b6b6b6b6bUL;

// Boot: hand the allocator the RAM in [start, end) (physical).
void pmem_add_range(uintptr_t start, uintptr_t end);
void pmem_init_done();

// Whom an allocation serves. The kernel keeps a reserve of free pages for
// itself (pmem_reserve_pages()): an allocation made on behalf of a user
// program (fork, exec, user page tables, sys_exec's arguments, largestruct
// copies for sys_lswrite) fails once it would leave fewer free pages than
// that, so a memory hog gets -ENOMEM while the kernel's own allocations
// (kernel threads, boot, self-tests) can still succeed.
enum class alloc_for { kernel, user };

// kalloc_pages(n): n contiguous pages (rounded up to a power of two), as a
// direct-map pointer, or nullptr. Contents are not zeroed.
[[nodiscard]] void* kalloc_pages(size_t npages, alloc_for who = alloc_for::kernel);
void kfree_pages(void* p);
[[nodiscard]] inline void* kalloc_page(alloc_for who = alloc_for::kernel) { return kalloc_pages(1, who); }
inline void kfree_page(void* p) { kfree_pages(p); }
// kalloc_zeroed_page(): one page, all zero.
[[nodiscard]] void* kalloc_zeroed_page(alloc_for who = alloc_for::kernel);

// kmalloc(sz): sz bytes, 16-byte aligned (page-aligned when sz > 2048).
// (The kernel is built with -fcheck-new: `new T` may yield nullptr, which
// callers check, and then no constructor runs.)
[[nodiscard]] void* kmalloc(size_t sz, alloc_for who = alloc_for::kernel);
void kfree(void* p);

// Statistics, for tests that prove nothing leaks.
size_t pmem_free_pages();
size_t pmem_reserve_pages();     // the kernel's reserve (see alloc_for)
size_t pmem_user_refusals();     // user allocations refused so far
size_t kmalloc_bytes_in_use();   // small (slab) objects only

// check_poison(p, n): panic unless [p, p+n) is all POISON_BYTE.
void check_poison(const void* p, size_t n, const char* what);
