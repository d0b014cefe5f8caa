// kernel/kmalloc.cc: the kernel heap.
//
// Requests up to 2048 bytes come from "slabs": a page holds a header and
// equal-sized objects of one size class (16, 32, ..., 2048 bytes). Each
// class keeps the pages that have free objects on a list; a page whose
// objects are all free goes back to the page allocator at once, so the
// free-page count returns to its starting value when everything is freed.
// Larger requests take whole pages (kalloc_pages). kfree tells the two
// apart by alignment: slab objects never start on a page boundary.
#include "kernel.hh"
#include "kalloc.hh"
#include "spinlock.hh"
#include "list.hh"
#include <atomic>
#include <new>

namespace {
constexpr int NCLASSES = 8;                   // 16 << 0 .. 16 << 7 = 2048
constexpr uint32_t SLAB_MAGIC = 0x51ab51ab;

struct free_obj { free_obj* next; };

struct slab_page {
    uint32_t magic;
    uint16_t cls;
    uint16_t nfree;
    free_obj* freelist;
    list_links link;          // in size_class::partial while nfree > 0
    uint64_t pad;
    // objects follow, from offset `first_offset(cls)`
};
static_assert(sizeof(slab_page) <= 48);

struct size_class {
    spinlock lock{"kmalloc.class"};
    list_head partial;
};
size_class classes[NCLASSES];
std::atomic<size_t> bytes_in_use{0};    // slab objects handed out

constexpr size_t class_size(int cls) { return size_t(16) << cls; }
constexpr size_t first_offset(int cls) { return class_size(cls) < 64 ? 64 : class_size(cls); }
constexpr uint16_t objects_per_page(int cls) {
    return uint16_t((PAGESIZE - first_offset(cls)) / class_size(cls));
}
static_assert(objects_per_page(NCLASSES - 1) == 1);

int class_for(size_t sz) {
    int cls = 0;
    while (class_size(cls) < sz) ++cls;
    return cls;
}

// new_slab(cls): a fresh page cut into free objects (poisoned when the
// `poison` option is on; the page allocator already poisoned it).
slab_page* new_slab(int cls, alloc_for who) {
    auto* s = static_cast<slab_page*>(kalloc_page(who));
    if (!s) return nullptr;
    s->magic = SLAB_MAGIC;
    s->cls = cls;
    s->nfree = objects_per_page(cls);
    s->freelist = nullptr;
    s->link = list_links();
    char* base = reinterpret_cast<char*>(s) + first_offset(cls);
    for (int i = objects_per_page(cls) - 1; i >= 0; --i) {
        auto* o = reinterpret_cast<free_obj*>(base + i * class_size(cls));
        o->next = s->freelist;
        s->freelist = o;
    }
    return s;
}
}

void* kmalloc(size_t sz, alloc_for who) {
    if (sz == 0) sz = 1;
    if (sz > class_size(NCLASSES - 1)) {
        return kalloc_pages((sz + PAGESIZE - 1) / PAGESIZE, who);
    }
    int cls = class_for(sz);
    size_class& c = classes[cls];
    free_obj* o;
    {
        spinlock_guard g(c.lock);
        slab_page* s;
        if (c.partial.empty()) {
            s = new_slab(cls, who);
            if (!s) return nullptr;
            c.partial.push_back(&s->link);
        } else {
            s = container_of(c.partial.front(), slab_page, link);
        }
        assert(s->magic == SLAB_MAGIC && s->nfree > 0);
        o = s->freelist;
        s->freelist = o->next;
        if (--s->nfree == 0) list_head::erase(&s->link);
    }
    if (kopts.poison) {
        check_poison(reinterpret_cast<char*>(o) + 8, class_size(cls) - 8, "heap object");
    }
    bytes_in_use += class_size(cls);
    return o;
}

void kfree(void* p) {
    if (!p) return;
    if ((uintptr_t(p) & (PAGESIZE - 1)) == 0) {
        // kfree_pages checks that this is an allocated block.
        kfree_pages(p);
        return;
    }
    auto* s = reinterpret_cast<slab_page*>(uintptr_t(p) & ~(PAGESIZE - 1));
    if (s->magic != SLAB_MAGIC) panic("kfree(%p): not a heap pointer", p);
    int cls = s->cls;
    size_t off = uintptr_t(p) - uintptr_t(s) - first_offset(cls);
    if (off % class_size(cls) != 0) panic("kfree(%p): not the start of an object", p);
    bytes_in_use -= class_size(cls);
    slab_page* empty = nullptr;
    {
        size_class& c = classes[cls];
        spinlock_guard g(c.lock);
        auto* o = static_cast<free_obj*>(p);
        if (kopts.poison) {
            // Debug mode: an object already on its page's free list is a double free.
            for (free_obj* f = s->freelist; f; f = f->next) {
                if (f == o) panic("kfree(%p): double free", p);
            }
            memset(p, POISON_BYTE, class_size(cls));
        }
        o->next = s->freelist;
        s->freelist = o;
        if (s->nfree++ == 0) c.partial.push_back(&s->link);
        if (s->nfree == objects_per_page(cls)) {
            list_head::erase(&s->link);
            empty = s;
        }
    }
    if (empty) kfree_pages(empty);     // poisons the whole page
}

size_t kmalloc_bytes_in_use() { return bytes_in_use.load(std::memory_order_relaxed); }

// C++ allocation operators.
void* operator new(size_t sz) { return kmalloc(sz); }
void* operator new[](size_t sz) { return kmalloc(sz); }
void operator delete(void* p) noexcept { kfree(p); }
void operator delete[](void* p) noexcept { kfree(p); }
void operator delete(void* p, size_t) noexcept { kfree(p); }
void operator delete[](void* p, size_t) noexcept { kfree(p); }
