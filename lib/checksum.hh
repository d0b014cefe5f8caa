// lib/checksum.hh: the checksum used to detect torn reads/writes of the
// shared "ls" buffer (see SYS_LSREAD/SYS_LSWRITE in lib/abi.hh).
#pragma once

#include <stddef.h>
#include <stdint.h>

// ls_checksum(p, n): 64-bit hash of the n bytes at p.
//
// Contract:
//  * Deterministic: depends only on n and the byte values, never on the
//    address or alignment of p, the CPU, or whether it runs in the kernel
//    or in user mode.  n == 0 is allowed (p may then be nullptr).
//  * Order-sensitive: permuting bytes, or combining the first half of one
//    buffer with the second half of another ("torn" buffer), changes the
//    result except with probability about 2^-63.
//  * Bit 63 of the result is always 0, so it fits a non-negative `long`.
//  * Not cryptographic; it detects accidents, not adversaries.
//  * Cost: one multiply-rotate step per 8 bytes; no SSE, no libc calls.
uint64_t ls_checksum(const void* p, size_t n);

// ls_checksum_last_byte(p, n, cand, k, out): out[c] = the checksum of the
// n bytes that are p's first n-1 bytes followed by byte cand[c], for each
// of the k candidates; n >= 1. The shared part is hashed once. With it a
// program recovers a struct it may only read through sys_lsread (a
// checksum of a prefix): byte i is the candidate whose checksum equals
// sys_lsread(scheme, i + 1) once bytes 0..i-1 are known (user/lswriters.cc).
void ls_checksum_last_byte(const void* p, size_t n, const unsigned char* cand, int k, uint64_t* out);
