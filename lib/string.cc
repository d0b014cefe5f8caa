// lib/string.cc: implementations of lib/string.hh.
//
// GCC is allowed to turn byte loops into calls to memset/memcpy/strlen
// ("loop distribution patterns"); inside the functions that *are* memset,
// memcpy, strlen ... that would produce infinite recursion. Every function
// here therefore carries NO_LIBCALL_LOOPS, which disables that
// transformation regardless of the command-line flags used.
//
// memcpy/memmove/memset use `rep movsq` / `rep stosq` for the 8-byte words
// and `rep movsb` / `rep stosb` for the rest. They need no SSE, so they are
// safe in the kernel. Words, not bytes, because QEMU's software emulation
// runs a `rep` string instruction one element per step: 8x fewer steps for
// the 10,000-byte largestruct copies.
// The System V ABI guarantees the direction flag is clear on function entry.
#include "string.hh"

#include <stdint.h>

#define NO_LIBCALL_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))

extern "C" {

NO_LIBCALL_LOOPS
void* memcpy(void* __restrict dst, const void* __restrict src, size_t n) {
    void* ret = dst;
    size_t words = n / 8, bytes = n % 8;
    asm volatile("rep movsq\n\t"
                 "movq %3, %%rcx\n\t"
                 "rep movsb"
                 : "+D"(dst), "+S"(src), "+c"(words)
                 : "r"(bytes)
                 : "memory");
    return ret;
}

// Forward copy is safe when dst is below src or the regions are disjoint;
// otherwise copy backwards with the direction flag set, then clear it again.
NO_LIBCALL_LOOPS
void* memmove(void* dst, const void* src, size_t n) {
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (n == 0 || d == s) {
        return dst;
    }
    if (d < s || d - s >= n) {
        void* di = dst;
        asm volatile("rep movsb"
                     : "+D"(di), "+S"(src), "+c"(n)
                     :
                     : "memory");
    } else {
        void* di = (char*)dst + n - 1;
        const void* si = (const char*)src + n - 1;
        asm volatile("std\n\t"
                     "rep movsb\n\t"
                     "cld"
                     : "+D"(di), "+S"(si), "+c"(n)
                     :
                     : "memory", "cc");
    }
    return dst;
}

NO_LIBCALL_LOOPS
void* memset(void* dst, int c, size_t n) {
    void* ret = dst;
    uint64_t pattern = 0x0101010101010101ULL * (unsigned char) c;
    size_t words = n / 8, bytes = n % 8;
    asm volatile("rep stosq\n\t"
                 "movq %3, %%rcx\n\t"
                 "rep stosb"
                 : "+D"(dst), "+c"(words), "+a"(pattern)
                 : "r"(bytes)
                 : "memory");
    return ret;
}

NO_LIBCALL_LOOPS
int memcmp(const void* a, const void* b, size_t n) {
    const unsigned char* x = (const unsigned char*)a;
    const unsigned char* y = (const unsigned char*)b;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

NO_LIBCALL_LOOPS
size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

NO_LIBCALL_LOOPS
size_t strnlen(const char* s, size_t maxlen) {
    size_t n = 0;
    while (n < maxlen && s[n] != '\0') {
        ++n;
    }
    return n;
}

NO_LIBCALL_LOOPS
int strcmp(const char* a, const char* b) {
    const unsigned char* x = (const unsigned char*)a;
    const unsigned char* y = (const unsigned char*)b;
    while (*x != '\0' && *x == *y) {
        ++x;
        ++y;
    }
    return (int)*x - (int)*y;
}

NO_LIBCALL_LOOPS
int strncmp(const char* a, const char* b, size_t n) {
    const unsigned char* x = (const unsigned char*)a;
    const unsigned char* y = (const unsigned char*)b;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i] || x[i] == '\0') {
            return (int)x[i] - (int)y[i];
        }
    }
    return 0;
}

NO_LIBCALL_LOOPS
char* strchr(const char* s, int c) {
    char ch = (char)c;
    for (;; ++s) {
        if (*s == ch) {
            return (char*)s;
        }
        if (*s == '\0') {
            return nullptr;
        }
    }
}

}  // extern "C"

NO_LIBCALL_LOOPS
bool str_starts_with(const char* s, const char* prefix) {
    while (*prefix != '\0') {
        if (*s++ != *prefix++) {
            return false;
        }
    }
    return true;
}

// Value of hex/decimal digit ch, or -1 if ch is not a digit in that base.
static int digit_value(char ch, int base) {
    int v;
    if (ch >= '0' && ch <= '9') {
        v = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
        v = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
        v = ch - 'A' + 10;
    } else {
        return -1;
    }
    return v < base ? v : -1;
}

// Accumulates the magnitude as unsigned so that LONG_MIN ("-9223372036854775808"
// or "-0x8000000000000000") parses, and rejects anything beyond it.
NO_LIBCALL_LOOPS
bool parse_long(const char* s, long* out) {
    if (s == nullptr) {
        return false;
    }
    bool neg = false;
    if (*s == '-') {
        neg = true;
        ++s;
    }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0') {
        return false;  // empty, "-", "0x", "-0x"
    }
    unsigned long limit = neg ? (unsigned long)__LONG_MAX__ + 1 : (unsigned long)__LONG_MAX__;
    unsigned long v = 0;
    for (; *s != '\0'; ++s) {
        int d = digit_value(*s, base);
        if (d < 0) {
            return false;
        }
        if (v > (limit - (unsigned long)d) / (unsigned long)base) {
            return false;  // v * base + d would exceed limit
        }
        v = v * (unsigned long)base + (unsigned long)d;
    }
    *out = neg ? (long)(0UL - v) : (long)v;
    return true;
}
