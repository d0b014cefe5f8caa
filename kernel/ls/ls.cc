// kernel/ls/ls.cc: the schemes' registry (checked against lib/abi.hh's
// LS_SCHEMES at boot), and sys_lsread and sys_lswrite: argument checks,
// then the scheme's own read or write (kernel/ls/ls_*.cc).
#include "ls.hh"
#include "proc.hh"
#include "vm.hh"
#include "kalloc.hh"
#include "trace.hh"

extern "C" const ls_scheme* const __ls_schemes_start[];
extern "C" const ls_scheme* const __ls_schemes_end[];
static const ls_scheme* schemes[LS_NSCHEMES];   // by id; GDB's grace-ls reads it

// check_scheme(s): panic unless descriptor s fits its line of LS_SCHEMES
// and says what GDB and the self-tests rely on.
static void check_scheme(const ls_scheme& s) {
    const ls_scheme_entry* e = ls_scheme_entry_of(s.id);
    if (!e) {
        panic("ls: a kernel/ls file registers scheme %d (\"%s\"), which lib/abi.hh's LS_SCHEMES "
              "does not list: add its line there", s.id, s.name ? s.name : "?");
    }
    if (!ls_names_equal(s.name, e->name)) {
        panic("ls: scheme %d is \"%s\" in LS_SCHEMES but registers as \"%s\"", s.id, e->name,
              s.name ? s.name : "(null)");
    }
    if (schemes[s.id]) panic("ls: %s (%d, \"%s\") is registered twice", e->constant, s.id, e->name);
    if (!s.init || !s.read || !s.write || !s.current.at) {
        panic("ls: %s: its ls_scheme needs init, read, write and current", e->constant);
    }
    bool in_place = e->storage == ls_storage::in_place;
    if (in_place != (s.current.how == ls_where::in_place)) {
        panic("ls: %s: LS_SCHEMES says it %s, but its `current` says %s", e->constant,
              in_place ? "writes in place" : "copies", in_place ? "a pointer" : "in place");
    }
    if (!in_place && !s.waiting_what) {
        panic("ls: %s copies: its ls_scheme must say what waits to be reclaimed (waiting_what)",
              e->constant);
    }
}

// ls_init(): check the registry against LS_SCHEMES (every scheme listed
// there registered exactly once, under its name), then set each up.
void ls_init() {
    for (auto s = __ls_schemes_start; s != __ls_schemes_end; ++s) {
        check_scheme(**s);
        schemes[(*s)->id] = *s;
    }
    for (int id = 0; id < LS_NSCHEMES; ++id) {
        if (!schemes[id]) {
            panic("ls: %s (%d, \"%s\") is in lib/abi.hh's LS_SCHEMES, but no kernel/ls/ls_*.cc "
                  "registers it with LS_SCHEME", LS_SCHEME_TABLE[id].constant, id, LS_SCHEME_TABLE[id].name);
        }
        schemes[id]->init();
    }
}

const ls_scheme* ls_find(int id) {
    return id >= 0 && id < LS_NSCHEMES ? schemes[id] : nullptr;
}

// traced_read(s, len): s->read(len) between a read_begin and a read_end
// event (kernel/trace.hh), when tracing records read sections. Out of line,
// so that sys_lsread stays a tail call with one more test while it does not.
__attribute__((noinline)) static long traced_read(const ls_scheme* s, uint64_t len) {
    TRACE(read_begin, trace_pack(s->name), 0, uint32_t(current()->pid));
    long r = s->read(len);
    TRACE(read_end, trace_pack(s->name), 0, uint32_t(current()->pid));
    return r;
}

long sys_lsread(uint64_t scheme, uint64_t len) {
    const ls_scheme* s = scheme < LS_NSCHEMES ? schemes[scheme] : nullptr;
    if (!s || len > LS_SIZE) return -EINVAL;
    if (__builtin_expect(trace_on(trace_kind::read_begin), 0)) return traced_read(s, len);
    return s->read(len);
}

// sys_lswrite: the user's bytes are copied into the kernel before the
// scheme sees them, so a bad pointer fails before anything changes. A
// short write is copied on the kernel stack: it needs no memory, so a
// scheme that writes in place (ls_storage::in_place in LS_SCHEMES) can
// always take it, even when a memory hog leaves user allocations nothing.
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
