// kernel/pmem.cc: the physical page allocator, a binary buddy allocator.
//
// Free memory is kept as blocks of 2^order pages (order 0..MAX_ORDER), each
// block aligned to its size, on one free list per order. Allocating takes a
// block of the smallest order that fits, splitting larger blocks in half as
// needed; freeing merges a block with its "buddy" (the other half of the
// block they were split from) while the buddy is free too. pages[] keeps,
// for each physical page that begins a block, the block's order, whether it
// is free, and its free-list links: nothing is stored inside free memory,
// so all of it can hold the poison pattern.
#include "kernel.hh"
#include "kalloc.hh"
#include "spinlock.hh"

namespace {
constexpr int MAX_ORDER = 10;                 // 4 MiB blocks
constexpr uint8_t META_FREE = 0x80;           // block head, free
constexpr uint8_t META_USED = 0x40;           // block head, allocated
constexpr uint8_t META_ORDER = 0x0f;

constexpr uint32_t NIL = 0xffffffff;
struct page_info { uint32_t next, prev; uint8_t meta; };

spinlock lock{"pmem.lock"};
uint32_t free_lists[MAX_ORDER + 1] = {NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL};
page_info* pages;             // one per physical page
size_t npages_phys;           // pages covered by pages[]
size_t nfree;
size_t reserve;               // free pages only alloc_for::kernel may take
size_t user_refusals;         // user allocations refused (under lock)

// Boot-time ranges, before pages[] exists.
struct range { uintptr_t start, end; };
range boot_ranges[32];
int nboot_ranges;

inline void* block_at(size_t pfn) { return pa2kva(pfn * PAGESIZE); }
inline size_t pfn_of(const void* p) { return kva2pa(p) / PAGESIZE; }

void list_push(int order, uint32_t pfn) {
    pages[pfn].prev = NIL;
    pages[pfn].next = free_lists[order];
    if (free_lists[order] != NIL) pages[free_lists[order]].prev = pfn;
    free_lists[order] = pfn;
}
void list_remove(int order, uint32_t pfn) {
    page_info& pi = pages[pfn];
    if (pi.prev != NIL) pages[pi.prev].next = pi.next; else free_lists[order] = pi.next;
    if (pi.next != NIL) pages[pi.next].prev = pi.prev;
}

void poison_block(size_t pfn, int order) {
    if (kopts.poison) {
        // rep stosq: 8 bytes a step (much faster than bytes under QEMU).
        void* p = block_at(pfn);
        size_t n = (PAGESIZE << order) / 8;
        asm volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(POISON_WORD) : "memory");
    }
}

// free_block_locked(pfn, order): put a block back, merging with buddies.
void free_block_locked(size_t pfn, int order) {
    assert_held(lock);
    nfree += size_t(1) << order;
    while (order < MAX_ORDER) {
        size_t buddy = pfn ^ (size_t(1) << order);
        if (buddy + (size_t(1) << order) > npages_phys
            || pages[buddy].meta != (META_FREE | order)) {
            break;
        }
        list_remove(order, buddy);
        pages[buddy].meta = 0;
        pfn = pfn < buddy ? pfn : buddy;
        ++order;
    }
    pages[pfn].meta = META_FREE | order;
    list_push(order, pfn);
}
}

void pmem_add_range(uintptr_t start, uintptr_t end) {
    start = round_up<uintptr_t>(start, PAGESIZE);
    end = round_down<uintptr_t>(end, PAGESIZE);
    if (start < end && nboot_ranges < 32) boot_ranges[nboot_ranges++] = {start, end};
}

// pmem_init_done(): place pages[] in the first range big enough, then
// free every page of every range.
void pmem_init_done() {
    uintptr_t top = 0;
    for (int i = 0; i < nboot_ranges; ++i) top = max(top, boot_ranges[i].end);
    npages_phys = top / PAGESIZE;
    size_t meta_bytes = round_up<size_t>(npages_phys * sizeof(page_info), PAGESIZE);
    for (int i = 0; i < nboot_ranges && !pages; ++i) {
        if (boot_ranges[i].end - boot_ranges[i].start >= meta_bytes) {
            pages = pa2kva<page_info>(boot_ranges[i].start);
            boot_ranges[i].start += meta_bytes;
        }
    }
    assert(pages);
    memset(pages, 0, meta_bytes);
    spinlock_guard g(lock);
    for (int i = 0; i < nboot_ranges; ++i) {
        for (uintptr_t pa = boot_ranges[i].start; pa < boot_ranges[i].end; pa += PAGESIZE) {
            poison_block(pa / PAGESIZE, 0);
            free_block_locked(pa / PAGESIZE, 0);
        }
    }
    // 1/64 of memory (8 MiB of 512), at least 256 pages: enough for the
    // kernel threads and the allocations no system call can refuse.
    reserve = max<size_t>(256, nfree / 64);
}

// kalloc_pages(npages, who): see kalloc.hh; a user allocation may not
// leave fewer than `reserve` pages free.
void* kalloc_pages(size_t npages, alloc_for who) {
    int order = 0;
    while ((size_t(1) << order) < npages) ++order;
    if (order > MAX_ORDER) return nullptr;
    size_t pfn;
    {
        spinlock_guard g(lock);
        if (who == alloc_for::user && nfree < reserve + (size_t(1) << order)) {
            ++user_refusals;
            return nullptr;
        }
        int o = order;
        while (o <= MAX_ORDER && free_lists[o] == NIL) ++o;
        if (o > MAX_ORDER) return nullptr;
        pfn = free_lists[o];
        list_remove(o, pfn);
        // Split: give back the upper halves.
        while (o > order) {
            --o;
            size_t upper = pfn + (size_t(1) << o);
            pages[upper].meta = META_FREE | o;
            list_push(o, upper);
        }
        pages[pfn].meta = META_USED | order;
        nfree -= size_t(1) << order;
    }
    void* p = block_at(pfn);
    if (kopts.poison) check_poison(p, PAGESIZE << order, "page");
    return p;
}

void kfree_pages(void* p) {
    if (!p) return;
    assert((uintptr_t(p) & (PAGESIZE - 1)) == 0);
    size_t pfn = pfn_of(p);
    assert(pfn < npages_phys);
    uint8_t meta = pages[pfn].meta;
    if (!(meta & META_USED)) panic("kfree_pages(%p): not an allocated block (double free?)", p);
    int order = meta & META_ORDER;
    poison_block(pfn, order);
    spinlock_guard g(lock);
    pages[pfn].meta = 0;
    free_block_locked(pfn, order);
}

void* kalloc_zeroed_page(alloc_for who) {
    void* p = kalloc_page(who);
    if (p) memset(p, 0, PAGESIZE);
    return p;
}

size_t pmem_free_pages() { return nfree; }
size_t pmem_reserve_pages() { return reserve; }
size_t pmem_user_refusals() { return user_refusals; }

void check_poison(const void* p, size_t n, const char* what) {
    const uint64_t* w = static_cast<const uint64_t*>(p);
    for (size_t i = 0; i < n / 8; ++i) {
        if (w[i] != POISON_WORD) {
            panic("poison corrupted: %s %p written after free at offset %zu (%016lx)",
                  what, p, i * 8, w[i]);
        }
    }
}
