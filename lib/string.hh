// lib/string.hh: freestanding string and memory routines shared by the
// Grace kernel and its user programs.
//
// The mem* and str* functions use C linkage and the standard C signatures,
// because GCC may emit calls to memcpy/memset/memmove/memcmp on its own
// (struct copies, zero-initialisation, ...). There is deliberately no
// strcpy/strcat: use snprintf() (lib/printf.hh) or memcpy with a known length.
//
// Do not include this header together with a hosted <string.h>/<cstring>;
// on the host, use the C library instead.
#pragma once

#include <stddef.h>

extern "C" {

// Copy n bytes from src to dst; the regions must not overlap.
void* memcpy(void* __restrict dst, const void* __restrict src, size_t n);
// Copy n bytes from src to dst; the regions may overlap.
void* memmove(void* dst, const void* src, size_t n);
// Fill n bytes at dst with the byte value (unsigned char) c.
void* memset(void* dst, int c, size_t n);
// Compare n bytes as unsigned chars; <0, 0 or >0 like C's memcmp.
int memcmp(const void* a, const void* b, size_t n);

// Length of the NUL-terminated string s.
size_t strlen(const char* s);
// Length of s, but never looks at more than maxlen bytes.
size_t strnlen(const char* s, size_t maxlen);
// Compare NUL-terminated strings as unsigned chars.
int strcmp(const char* a, const char* b);
// Compare at most n characters of two strings as unsigned chars.
int strncmp(const char* a, const char* b, size_t n);
// First occurrence of (char) c in s (c == 0 finds the terminator), or nullptr.
char* strchr(const char* s, int c);

}  // extern "C"

// True if string s begins with prefix (every string starts with "").
bool str_starts_with(const char* s, const char* prefix);

// Parse a whole string as a signed long: optional leading '-', then either
// decimal digits or "0x"/"0X" followed by hex digits. No whitespace is
// skipped. Returns false (leaving *out untouched) on an empty string,
// missing digits, trailing garbage or overflow; otherwise stores the value.
bool parse_long(const char* s, long* out);
