// kernel/ls/ls.cc: sys_lsread and sys_lswrite: argument checks, then the
// scheme's own read or write (kernel/ls_*.cc).
#include "ls.hh"
#include "proc.hh"
#include "vm.hh"
#include "kalloc.hh"

extern "C" const ls_scheme* const __ls_schemes_start[];
extern "C" const ls_scheme* const __ls_schemes_end[];
static const ls_scheme* schemes[LS_NSCHEMES];

void ls_init() {
    for (auto s = __ls_schemes_start; s != __ls_schemes_end; ++s) {
        assert((*s)->id >= 0 && (*s)->id < LS_NSCHEMES && !schemes[(*s)->id]);
        schemes[(*s)->id] = *s;
        (*s)->init();
    }
}

const ls_scheme* ls_find(int id) {
    return id >= 0 && id < LS_NSCHEMES ? schemes[id] : nullptr;
}

long sys_lsread(uint64_t scheme, uint64_t len) {
    const ls_scheme* s = scheme < LS_NSCHEMES ? schemes[scheme] : nullptr;
    if (!s || len > LS_SIZE) return -EINVAL;
    return s->read(len);
}

// sys_lswrite: the user's bytes are copied into the kernel before the
// scheme sees them, so a bad pointer fails before anything changes. A
// short write is copied on the kernel stack: it needs no memory, so a
// scheme that writes in place (spinlock, rwlock, none) can always take it,
// even when a memory hog leaves user allocations nothing.
long sys_lswrite(uint64_t scheme, uint64_t buf, uint64_t len) {
    const ls_scheme* s = scheme < LS_NSCHEMES ? schemes[scheme] : nullptr;
    if (!s || len > LS_SIZE) return -EINVAL;
    if (!user_range_ok(current()->pagetable, buf, len, false)) return -EFAULT;
    constexpr size_t ON_STACK = 256;
    char small[ON_STACK];
    char* data = len <= ON_STACK ? small : static_cast<char*>(kmalloc(len, alloc_for::user));
    if (!data) return -ENOMEM;
    memcpy(data, reinterpret_cast<const char*>(buf), len);
    long r = s->write(data, len);
    if (data != small) kfree(data);
    return r;
}
