// kernel/vm.cc: four-level x86-64 page tables.
//
// Every process has its own PML4. Entries 256..511 (the kernel half:
// direct map and kernel image) are copied from kernel_pagetable and point
// to the same lower-level tables, so the kernel is mapped identically in
// every address space. Entries 0..255 map the process's own pages, 4 KiB
// each, always with PTE_U.
#include "vm.hh"
#include "kalloc.hh"

uint64_t* kernel_pagetable;

namespace {
inline int pt_index(uintptr_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

// walk(pml4, va, create): the level-0 PTE for va, allocating tables on the
// way down when `create` (for user space: alloc_for::user).
uint64_t* walk(uint64_t* pml4, uintptr_t va, bool create) {
    uint64_t* table = pml4;
    for (int level = 3; level > 0; --level) {
        uint64_t& e = table[pt_index(va, level)];
        if (!(e & PTE_P)) {
            if (!create) return nullptr;
            void* t = kalloc_zeroed_page(alloc_for::user);
            if (!t) return nullptr;
            e = kva2pa(t) | PTE_P | PTE_W | PTE_U;
        }
        if (e & PTE_PS) return nullptr;
        table = pa2kva<uint64_t>(e & PTE_ADDR);
    }
    return &table[pt_index(va, 0)];
}

// free_level(table, level): free the user pages and tables below a table.
void free_level(uint64_t* table, int level, int limit) {
    for (int i = 0; i < limit; ++i) {
        uint64_t e = table[i];
        if (!(e & PTE_P)) continue;
        void* child = pa2kva(e & PTE_ADDR);
        if (level > 0) free_level(static_cast<uint64_t*>(child), level - 1, 512);
        kfree_page(child);
    }
}
}

uint64_t* pt_create() {
    auto* pml4 = static_cast<uint64_t*>(kalloc_zeroed_page(alloc_for::user));
    if (pml4) memcpy(pml4 + 256, kernel_pagetable + 256, 256 * 8);
    return pml4;
}

void pt_destroy(uint64_t* pml4) {
    free_level(pml4, 3, 256);
    kfree_page(pml4);
}

bool pt_map(uint64_t* pml4, uintptr_t va, uintptr_t pa, uint64_t perm) {
    assert(va < USER_TOP && (va & (PAGESIZE - 1)) == 0);
    uint64_t* pte = walk(pml4, va, true);
    if (!pte) return false;
    *pte = pa | perm | PTE_P;
    return true;
}

uint64_t* pt_lookup(uint64_t* pml4, uintptr_t va) {
    if (va >= USER_TOP) return nullptr;
    uint64_t* pte = walk(pml4, va, false);
    return pte && (*pte & PTE_P) ? pte : nullptr;
}

uint64_t* pt_clone(uint64_t* src) {
    uint64_t* dst = pt_create();
    if (!dst) return nullptr;
    // Visit every present user PTE (a recursive copy of levels 3..0).
    struct copier {
        static bool copy(uint64_t* s, uint64_t* dpml4, int level, uintptr_t base, int limit) {
            for (int i = 0; i < limit; ++i) {
                uint64_t e = s[i];
                if (!(e & PTE_P)) continue;
                uintptr_t va = base | (uintptr_t(i) << (12 + 9 * level));
                if (level > 0) {
                    if (!copy(pa2kva<uint64_t>(e & PTE_ADDR), dpml4, level - 1, va, 512)) return false;
                    continue;
                }
                void* page = kalloc_page(alloc_for::user);
                if (!page) return false;
                memcpy(page, pa2kva(e & PTE_ADDR), PAGESIZE);
                if (!pt_map(dpml4, va, kva2pa(page), e & (PTE_U | PTE_W | PTE_NX))) {
                    kfree_page(page);
                    return false;
                }
            }
            return true;
        }
    };
    if (!copier::copy(src, dst, 3, 0, 256)) {
        pt_destroy(dst);
        return nullptr;
    }
    return dst;
}

bool user_range_ok(uint64_t* pml4, uintptr_t va, size_t n, bool write) {
    if (n == 0) return va < USER_TOP;
    if (va >= USER_TOP || n > USER_TOP - va) return false;
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    for (uintptr_t p = round_down<uintptr_t>(va, PAGESIZE); p < va + n; p += PAGESIZE) {
        uint64_t* pte = pt_lookup(pml4, p);
        if (!pte || (*pte & need) != need) return false;
    }
    return true;
}

bool user_string_ok(uint64_t* pml4, uintptr_t s, size_t max, size_t* len) {
    for (size_t i = 0; i < max; ++i) {
        if ((i == 0 || ((s + i) & (PAGESIZE - 1)) == 0) && !user_range_ok(pml4, s + i, 1, false)) {
            return false;
        }
        if (reinterpret_cast<const char*>(s)[i] == 0) {
            *len = i;
            return true;
        }
    }
    *len = max;
    return true;
}
