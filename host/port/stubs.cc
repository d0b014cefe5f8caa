// host/port/stubs.cc: the kernel's other services, for the host build, one
// short stand-in each: the console and panics (on stderr), the clock, the
// heap, membarrier, and the few kernel functions that the host never calls
// but the kernel's files name. When a kernel file the host build compiles
// starts calling a new kernel function (a debug check, say), its stand-in
// goes here, usually in one line.
#include "kernel.hh"
#include "kalloc.hh"
#include "apic.hh"
#include "vm.hh"
#include "cpu.hh"
#include "lockdep.hh"
#include <asm/prctl.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <new>

namespace {
std::mutex console_lock;

// running_cpu(): the CPU this thread runs right now (its own, or one the
// ticker borrowed), or -1.
int running_cpu() {
    unsigned long base = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_GS, &base) != 0 || base == 0) return -1;
    return reinterpret_cast<cpu*>(base)->index;
}
}

// ---- the console: stderr, whole lines ----

void console_write(const char* s, size_t n) {
    std::lock_guard<std::mutex> g(console_lock);
    fwrite(s, 1, n, stderr);
}

void console_printf(const char* fmt, ...) {
    std::lock_guard<std::mutex> g(console_lock);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void log_printf(const char* fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    int c = running_cpu();
    std::lock_guard<std::mutex> g(console_lock);
    if (c >= 0) fprintf(stderr, "[cpu%d] %s\n", c, line);
    else fprintf(stderr, "[host] %s\n", line);
}

void print_backtrace(uintptr_t, int skip) {
    void* frames[32];
    int n = backtrace(frames, 32);
    std::lock_guard<std::mutex> g(console_lock);
    if (n > skip + 1) backtrace_symbols_fd(frames + skip + 1, n - skip - 1, 2);
}

const char* symbol_name(uintptr_t addr, uintptr_t* offset) {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void*>(addr), &info) || !info.dli_sname) return nullptr;
    *offset = addr - uintptr_t(info.dli_saddr);
    return info.dli_sname;
}

// panic(): the message, the CPU and a backtrace, then abort() (so a
// sanitizer or a debugger sees where).
void panic(const char* fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_printf("panic: %s", line);
    print_backtrace(0, 0);
    abort();
}

void assert_fail(const char* file, int line, const char* expr, const char* func) {
    panic("assertion failed: %s, in %s at %s:%d", expr, func, file, line);
}

// ---- the clock ----

uint64_t clock_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return uint64_t(t.tv_sec) * 1000000000 + uint64_t(t.tv_nsec);
}

// ---- memory: the host's heap, never low ----

void* kmalloc(size_t sz, alloc_for) { return ::operator new(sz, std::nothrow); }
void kfree(void* p) { ::operator delete(p); }
void* kalloc_pages(size_t npages, alloc_for) {
    return ::operator new(npages * PAGESIZE, std::align_val_t(PAGESIZE), std::nothrow);
}
void kfree_pages(void* p) { ::operator delete(p, std::align_val_t(PAGESIZE)); }
size_t pmem_free_pages() { return SIZE_MAX / 2; }
size_t pmem_reserve_pages() { return 0; }

// membarrier_all(): Linux's expedited membarrier: every running thread of
// this process executes a full barrier before it returns (registered once).
void membarrier_all() {
    static const bool registered =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    if (!registered || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        panic("membarrier_all: this host has no membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)");
    }
}

// ---- lib/string.cc's parse_long (the host uses the C library's mem* and str*) ----

bool parse_long(const char* s, long* out) {
    bool neg = *s == '-';
    if (neg) ++s;
    int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
    if (base == 16) s += 2;
    if (!(base == 16 ? isxdigit(*s) : isdigit(*s))) return false;
    char* end;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    unsigned long limit = neg ? static_cast<unsigned long>(LONG_MAX) + 1 : LONG_MAX;
    if (*end || errno || v > limit) return false;
    *out = neg ? static_cast<long>(0 - v) : static_cast<long>(v);
    return true;
}

// ---- named by kernel files, never called on the host ----

bool user_range_ok(uint64_t*, uintptr_t, size_t, bool) { panic("host: there is no user memory"); }

// ---- the lock checker's table, and the store-buffer hooks ----
// The host build compiles kernel/lockdep.cc itself; only THE LOCK ORDER's
// table lives in kernel/sched.cc, which the host cannot compile. Without it
// the checker still catches recursion, bad releases and pairs of locks
// taken in both orders. The store-buffer hooks of the hazard-pointer
// self-test (kernel/apic.cc) never hold a store on the host.
const lock_order_entry LOCK_ORDER[1] = {};
const size_t LOCK_ORDER_LENGTH = 0;
#if GRACE_DEBUG
std::atomic<int> store_buffer_armed{-1};
std::atomic<int> store_buffer_holder{-1};
void store_buffer_arm(int) {}
bool store_buffer_hold_word(void*, uintptr_t) { return false; }
void store_buffer_drain_slow() {}
#endif
