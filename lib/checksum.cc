// lib/checksum.cc: implementation of ls_checksum (see lib/checksum.hh).
//
// Algorithm:
//   h = SEED ^ (n * M1)
//   for each little-endian 64-bit word w (the last one zero-padded):
//       h = rotl((h ^ w) * M2, 29)
//   h = splitmix64_finalizer(h) & 0x7fffffffffffffff
// Each step is a bijection of h for a fixed w, so two inputs of equal length
// that differ in exactly one word always give different pre-mask values;
// the rotation feeds the well-mixed high product bits back into the low
// bits so that later words cannot cancel earlier ones in a simple way.
#include "checksum.hh"

namespace {

constexpr uint64_t SEED = 0x9e3779b97f4a7c15ull;  // golden ratio
constexpr uint64_t M1 = 0xff51afd7ed558ccdull;    // murmur3 fmix constant
constexpr uint64_t M2 = 0x100000001b3ull * 0x9e3779b97f4a7c15ull | 1;  // odd

inline uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

inline uint64_t step(uint64_t h, uint64_t w) {
    return rotl((h ^ w) * M2, 29);
}

// splitmix64's finalizer: a bijection with full avalanche.
inline uint64_t fmix(uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

// prefix_state(b, n, &tail, &shift): h after every full word of an n-byte
// input but the one holding byte n-1 (n >= 1); `tail` gets that word's
// bytes before byte n-1, and `shift` the bit position of byte n-1 in it.
uint64_t prefix_state(const unsigned char* b, size_t n, uint64_t* tail, size_t* shift) {
    uint64_t h = SEED ^ (uint64_t(n) * M1);
    size_t last_word = (n - 1) / 8 * 8;
    for (size_t i = 0; i < last_word; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, b + i, 8);
        h = step(h, w);
    }
    uint64_t t = 0;
    for (size_t k = 0; last_word + k < n - 1; ++k) t |= uint64_t(b[last_word + k]) << (8 * k);
    *tail = t;
    *shift = 8 * (n - 1 - last_word);
    return h;
}

}  // namespace

void ls_checksum_last_byte(const void* p, size_t n, const unsigned char* cand, int k, uint64_t* out) {
    uint64_t tail;
    size_t shift;
    uint64_t h = prefix_state(static_cast<const unsigned char*>(p), n, &tail, &shift);
    for (int c = 0; c < k; ++c) {
        out[c] = fmix(step(h, tail | (uint64_t(cand[c]) << shift))) & 0x7fffffffffffffffull;
    }
}

uint64_t ls_checksum(const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    uint64_t h = SEED ^ (uint64_t(n) * M1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, b + i, 8);  // unaligned-safe; compiles to one load
        h = step(h, w);
    }
    if (i < n) {
        // Tail of 1..7 bytes, assembled little-endian like the full words.
        uint64_t w = 0;
        for (size_t k = 0; i + k < n; ++k) {
            w |= uint64_t(b[i + k]) << (8 * k);
        }
        h = step(h, w);
    }
    return fmix(h) & 0x7fffffffffffffffull;
}
