// user/fuzz.hh: the machinery of user/fuzz.cc (included only there): its
// random numbers, the raw system call with a hostile register state, a
// worker's record of its calls and the oracle's verdict, what the worker
// knows of its own address space, and the nasty argument generators.
#pragma once
#include "ulib.hh"

namespace fuzz {
constexpr uint64_t PAGE = 4096;
constexpr uint64_t USER_TOP = 0x800000000000ull;
constexpr uint64_t KERNEL_LOW = 0xffff800000000000ull;   // the direct map
constexpr int QUIET_STATUS = 7;       // `exitstatus child-returns` exits 7, silently

inline uint64_t round_up_page(uint64_t a) { return (a + PAGE - 1) & ~(PAGE - 1); }

// splitmix64: small, fast, and every seed gives a good stream.
struct rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    bool one_in(uint64_t n) { return below(n) == 0; }
};

// Memory the workers know about. The kernel never writes into any of it
// during fuzzing (the only calls that write to user memory, read and
// waitpid, are never given a good buffer there except for a real child).
char rw_area[16384];                              // mapped, writable
const char ro_area[12288] = {1};                  // mapped, read-only (.rodata)
uintptr_t image_end;    // first unwritable page above rw_area (end of .bss)
uintptr_t stack_top;    // first unmapped address above the stack
uintptr_t stack_low;    // lowest mapped stack address

// A user range and what the kernel must think of it.
struct urange {
    uint64_t addr, len;
    bool readable, writable;   // whether [addr, addr+len) is fine for that access
};

// ---- the raw call, with a hostile register state sometimes -------------
enum nasty : int { PLAIN = 0, FLAGS_NT_DF = 1, BAD_RSP = 2 };

// raw_call(nr, a, flags, rsp): `syscall` with rdi, rsi, rdx, r10, r8, r9 =
// a[0..5]. `flags` are ORed into RFLAGS just before (NT, DF); a non-zero
// `rsp` replaces the stack pointer across the instruction. 128 bytes are
// skipped first: pushfq must not clobber the red zone.
long raw_call(uint64_t nr, const uint64_t a[6], uint64_t flags, uint64_t rsp) {
    register uint64_t r10 asm("r10") = a[3];
    register uint64_t r8 asm("r8") = a[4];
    register uint64_t r9 asm("r9") = a[5];
    asm volatile(
        "subq $128, %%rsp\n\t"
        "pushfq\n\t"
        "orq %[fl], (%%rsp)\n\t"
        "popfq\n\t"
        "movq %%rsp, %%rbx\n\t"
        "testq %[sp], %[sp]\n\t"
        "cmovnzq %[sp], %%rsp\n\t"
        "syscall\n\t"
        "movq %%rbx, %%rsp\n\t"
        "cld\n\t"
        "pushfq\n\t"
        "andq $~0x4000, (%%rsp)\n\t"
        "popfq\n\t"
        "addq $128, %%rsp"
        : "+a"(nr), "+r"(r10), "+r"(r8), "+r"(r9)
        : "D"(a[0]), "S"(a[1]), "d"(a[2]), [fl] "r"(flags), [sp] "r"(rsp)
        : "rbx", "rcx", "r11", "memory", "cc");
    return long(nr);
}

// ---- a worker's state, its record of calls, and the oracle -------------
struct call_record {
    long seq;
    const char* name;
    uint64_t nr, a[4];
    int mode;
    long result;
};
constexpr int RING = 12;

struct worker {
    uint64_t seed;
    int index, pid, ppid, ncpu, pinned = -1;
    rng r;
    long calls = 0, violations = 0;
    call_record ring[RING];
    uint64_t last_clock = 0;

    // issue(name, nr, args, nargs): make the call (registers past nargs
    // hold garbage) and record it.
    long issue(const char* name, uint64_t nr, const uint64_t* args, int nargs) {
        uint64_t a[6];
        for (int i = 0; i < 6; ++i) a[i] = i < nargs ? args[i] : r.next();
        int mode = PLAIN;
        uint64_t flags = 0, rsp = 0;
        if (r.one_in(8)) {
            mode = FLAGS_NT_DF;
            flags = 0x4000 | 0x400;   // NT, DF
        } else if (r.one_in(8)) {
            mode = BAD_RSP;
            static const uint64_t rsps[] = {KERNEL_LOW, 0xffffffff80100000ull, 0x800000000000ull, 8,
                                            0xfffffffffffffff8ull, 0x10000000};
            rsp = rsps[r.below(sizeof(rsps) / sizeof(rsps[0]))];
        }
        long result = raw_call(nr, a, flags, rsp);
        call_record& c = ring[calls % RING];
        c = {calls, name, nr, {a[0], a[1], a[2], a[3]}, mode, result};
        ++calls;
        return result;
    }

    void print_call(const char* prefix, const call_record& c) {
        static const char* const modes[] = {"", " [NT+DF set]", " [bad rsp]"};
        printf("fuzz: %s seed=%lu worker=%d call#%ld: %s(nr %lu: %#lx, %#lx, %#lx, %#lx) = %ld%s\n", prefix,
               seed, index, c.seq, c.name, c.nr, c.a[0], c.a[1], c.a[2], c.a[3], c.result, modes[c.mode]);
    }

    // violation(why): the last call broke a rule; print it and the calls
    // before it.
    void violation(const char* why) {
        ++violations;
        print_call("VIOLATION", ring[(calls - 1) % RING]);
        printf("fuzz:   expected %s\n", why);
        for (long i = calls - RING; i < calls - 1; ++i) {
            if (i >= 0) print_call("  earlier", ring[i % RING]);
        }
    }

    // expect(result, allowed, may_succeed): the oracle's verdict on an
    // error result. `allowed` is a bit set of errnos (bit e: -e).
    bool expect(long result, uint64_t allowed, bool may_succeed) {
        if (result >= 0 && may_succeed) return true;
        if (result < 0 && result > -64 && (allowed & (1ull << -result))) return true;
        char why[160];
        int n = snprintf(why, sizeof(why), "%s", may_succeed ? "success" : "");
        for (int e = 1; e < 64; ++e) {
            if (allowed & (1ull << e)) n += snprintf(why + n, sizeof(why) - n, " -%d", e);
        }
        violation(why);
        return false;
    }
};

constexpr uint64_t bit(int e) { return 1ull << e; }

// ---- nasty arguments ------------------------------------------------------
// any_range(w, access_len_max): a user range of one of the nasty kinds.
// Valid ranges lie inside rw_area or ro_area, at any alignment, with
// lengths up to `len_max`.
urange any_range(worker& w, uint64_t len_max) {
    rng& r = w.r;
    auto small_len = [&] { return r.one_in(4) ? 0 : 1 + r.below(r.one_in(2) ? 16 : 3 * PAGE); };
    urange u{};
    switch (r.below(12)) {
    case 0: {   // inside rw_area
        uint64_t len = r.below(len_max + 1);
        if (len > sizeof(rw_area)) len = sizeof(rw_area);
        u.addr = uintptr_t(rw_area) + r.below(sizeof(rw_area) - len + 1);
        u.len = len;
        u.readable = u.writable = true;
        break;
    }
    case 1: {   // inside ro_area
        uint64_t len = r.below(len_max + 1);
        if (len > sizeof(ro_area)) len = sizeof(ro_area);
        u.addr = uintptr_t(ro_area) + r.below(sizeof(ro_area) - len + 1);
        u.len = len;
        u.readable = true;
        u.writable = len == 0;
        break;
    }
    case 2:     // the top of the stack running onto the unmapped page above
        u.addr = stack_top - 1 - r.below(40);
        u.len = stack_top - u.addr + 1 + r.below(2 * PAGE);
        break;
    case 3:     // the end of .bss running onto the unmapped page above
        u.addr = image_end - 1 - r.below(PAGE);
        u.len = image_end - u.addr + 1 + r.below(2 * PAGE);
        break;
    case 4:     // from unmapped memory onto the bottom of the stack
        u.addr = stack_low - 1 - r.below(64);
        u.len = stack_low - u.addr + r.below(64);
        break;
    case 5: {   // unmapped user memory: page 0, below the program, the big hole, above the stack
        static const uint64_t lo[] = {0, PAGE, 0, stack_top};
        static const uint64_t hi[] = {PAGE, 0x400000, 0, USER_TOP};
        int k = int(r.below(4));
        uint64_t a = lo[k], b = hi[k];
        if (k == 2) {
            a = round_up_page(image_end) + PAGE;
            b = stack_low - PAGE;
        }
        u.addr = a + r.below(b - a);
        u.len = small_len();
        u.readable = u.writable = u.len == 0;
        break;
    }
    case 6: {   // the kernel
        static const uint64_t k[] = {KERNEL_LOW, 0xffffffff80100000ull, 0xfffffffffffff000ull,
                                     0xffffffff80000000ull, 0xfffffffffffffff0ull};
        u.addr = r.one_in(3) ? KERNEL_LOW + r.below(0 - KERNEL_LOW) : k[r.below(5)];
        u.len = small_len();
        break;
    }
    case 7:     // non-canonical
        u.addr = USER_TOP + r.below(KERNEL_LOW - USER_TOP);
        u.len = small_len();
        break;
    case 8:     // just below the user/kernel boundary, maybe across it
        u.addr = USER_TOP - 1 - r.below(2 * PAGE);
        u.len = r.one_in(4) ? 0 : USER_TOP - u.addr + r.below(2 * PAGE);
        u.readable = u.writable = u.len == 0;
        break;
    case 9:     // a good start whose end wraps around 2^64
        u.addr = uintptr_t(rw_area) + r.below(sizeof(rw_area));
        u.len = r.one_in(2) ? ~uint64_t(0) : (0 - u.addr) + r.below(2 * PAGE);
        break;
    case 10:    // a good start, a length no mapping can hold
        u.addr = uintptr_t(rw_area) + r.below(sizeof(rw_area));
        u.len = (uint64_t(1) << (28 + r.below(36))) + r.below(PAGE);
        break;
    default:    // NULL
        u.addr = 0;
        u.len = r.one_in(3) ? 0 : small_len();
        u.readable = u.writable = u.len == 0;
        break;
    }
    return u;
}


// bad_addr(w): a non-NULL address whose first byte no call may read or
// write (NULL means "none" to some calls).
uint64_t bad_addr(worker& w) {
    for (;;) {
        uint64_t a = any_range(w, 64).addr;
        bool unmapped_start = a < 0x400000 || (a >= image_end && a < stack_low) || a >= stack_top;
        if (unmapped_start && a != 0) return a;
    }
}

// Scratch space for strings and argv arrays: the upper half of rw_area.
char* const scratch = rw_area + sizeof(rw_area) / 2;
constexpr size_t SCRATCH = sizeof(rw_area) / 2;

// unterminated_at_stack_top(w, &len): k bytes of 'x' (k < 40) at the very
// top of the stack with no NUL before the unmapped page: reading the
// string as far as a NUL faults. (The top page holds only the argv
// strings, consumed before the workers start.)
uint64_t unterminated_at_stack_top(worker& w) {
    size_t k = 1 + w.r.below(39);
    memset(reinterpret_cast<char*>(stack_top - k), 'x', k);
    return stack_top - k;
}

// random_name(dst, len): `len` letters that name no program ("zz..."),
// NUL-terminated.
void random_name(worker& w, char* dst, size_t len) {
    for (size_t i = 0; i < len; ++i) dst[i] = i < 2 ? 'z' : char('a' + w.r.below(26));
    dst[len] = 0;
}

// writable(a): is the page at `a` writable user memory? waitpid checks
// its status pointer before looking for children (and we have none).
bool writable(uintptr_t a) { return sys_waitpid(0x7fffffff, reinterpret_cast<int*>(a)) == -ECHILD; }

// find_layout(argv0): where the stack and .bss end, by probing.
// False if the probes find no end (waitpid takes any pointer: a bug).
bool find_layout(const char* argv0) {
    constexpr uintptr_t MAX_PROBE = 64 << 20;   // no program or stack is this big
    stack_top = (uintptr_t(argv0) | (PAGE - 1)) + 1;
    stack_low = stack_top - PAGE;
    while (writable(stack_low - PAGE) && stack_top - stack_low < MAX_PROBE) stack_low -= PAGE;
    image_end = round_up_page(uintptr_t(rw_area) + sizeof(rw_area));
    while (writable(image_end) && image_end < MAX_PROBE) image_end += PAGE;
    return stack_top - stack_low < MAX_PROBE && image_end < MAX_PROBE && !writable(8);
}

}  // namespace fuzz
