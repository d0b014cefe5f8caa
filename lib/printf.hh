// lib/printf.hh: freestanding printf-style formatting shared by the Grace
// kernel (console output) and user programs (user-level printf).
//
// Supported conversions: %d %i %u %x %X %o %p %s %c %%
// Length modifiers:       hh h l ll z t j
// Flags:                  - 0 + space #
// Width and precision, including '*' (taken from the argument list; a
// negative '*' width means '-' flag, a negative '*' precision is ignored).
// %p prints "0x" followed by exactly 16 hex digits; %s with a null pointer
// prints "(null)". There is no floating point and no %n. An unknown
// conversion is copied to the output verbatim.
//
// In Grace builds (GRACE_TARGET, set by the Makefile) they have C linkage,
// like the C library's, because hosted C++ headers pulled in by <atomic>
// may already have declared ::snprintf. In the host unit test they keep
// C++ linkage so they do not collide with the host C library.
#pragma once

#include <stdarg.h>
#include <stddef.h>

#ifdef GRACE_TARGET
extern "C" {
#endif

// Format `fmt` with arguments `ap`, passing every output character to
// putc(ctx, c) one at a time (no buffering, no terminating NUL). Returns
// the number of characters produced. This is the engine under vsnprintf;
// the kernel console and the user-level printf call it directly to stream
// output without a buffer.
int vformat(void (*putc)(void* ctx, char c), void* ctx, const char* fmt, va_list ap);

// Like C's vsnprintf: writes at most size-1 characters plus a NUL to buf
// (nothing if size == 0; buf may then be nullptr) and returns the length the
// full output would have had, so `ret >= size` means it was truncated.
int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

// Like C's snprintf; see vsnprintf.
int snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef GRACE_TARGET
}
#endif
