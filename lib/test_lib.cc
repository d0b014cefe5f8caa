// lib/test_lib.cc -- host-side unit test for lib/printf.cc and lib/checksum.cc
// (plus the header-only helpers in lib/abi.hh).
//
// Run it from the repository root (`make test-lib` does the same):
//   g++ -O2 -fno-builtin -Ilib lib/test_lib.cc lib/printf.cc lib/checksum.cc -o build/test_lib && build/test_lib
//
// lib/string.cc is deliberately not linked: its extern "C" memcpy etc.
// would clash with the host C library.  Our snprintf/vsnprintf have C++
// linkage, so they coexist with the C library's; this file reaches the
// host versions through the extern "C" declarations in namespace `host`
// (it must not include <stdio.h>, whose ::snprintf would conflict with ours).
//
// Exit status 0 means every check passed.

#include "abi.hh"
#include "checksum.hh"
#include "printf.hh"

#include <stddef.h>
#include <stdint.h>

namespace host {
extern "C" int snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern "C" int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
}  // namespace host

namespace {

int g_checks = 0;
int g_failures = 0;

void check(bool ok, int line, const char* what) {
    ++g_checks;
    if (!ok) {
        ++g_failures;
        host::printf("FAIL line %d: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond), __LINE__, #cond)

bool bytes_equal(const void* a, const void* b, size_t n) {
    const unsigned char* x = static_cast<const unsigned char*>(a);
    const unsigned char* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) {
            return false;
        }
    }
    return true;
}

bool str_equal(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// Deterministic PRNG (splitmix64) so failures are reproducible.
uint64_t g_rng = 0x1234567887654321ull;
uint64_t rnd() {
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ---------------------------------------------------------------- printf

constexpr size_t BUF = 256;
int g_fmt_cases = 0;

// Compare one ours/host result pair: same return value, same bytes up to
// and including the NUL (the output may contain NULs from %c).
void compare_outputs(int line, const char* desc, const char* ours, int r_ours,
                     const char* theirs, int r_theirs) {
    ++g_fmt_cases;
    bool ok = r_ours == r_theirs && r_ours >= 0 && (size_t)r_ours < BUF &&
              bytes_equal(ours, theirs, (size_t)r_ours + 1);
    check(ok, line, desc);
    if (!ok) {
        host::printf("    ours=%d \"%s\"  host=%d \"%s\"\n", r_ours, ours, r_theirs, theirs);
    }
}

// Format the same arguments with ours and the host's snprintf and compare.
#define FMT(...)                                                              \
    do {                                                                      \
        char ours_[BUF], theirs_[BUF];                                        \
        for (size_t i_ = 0; i_ < BUF; ++i_) ours_[i_] = theirs_[i_] = 'Z';    \
        int ro_ = ::snprintf(ours_, BUF, __VA_ARGS__);                        \
        int rt_ = host::snprintf(theirs_, BUF, __VA_ARGS__);                  \
        compare_outputs(__LINE__, #__VA_ARGS__, ours_, ro_, theirs_, rt_);    \
    } while (0)

// Hand-picked cases, including every length modifier at its extremes.
void test_printf_fixed() {
    FMT("hello, world");
    FMT("%s", "");
    FMT("%%");
    FMT("100%% done %d%%", 50);
    FMT("%d", 0);
    FMT("%d", 42);
    FMT("%d", -42);
    FMT("%i", 123456789);
    FMT("%d", (int)0x7fffffff);
    FMT("%d", -0x7fffffff - 1);
    FMT("%u", 0u);
    FMT("%u", 4294967295u);
    FMT("%x", 0xdeadbeefu);
    FMT("%X", 0xdeadbeefu);
    FMT("%o", 8u);
    FMT("%o", 0u);
    FMT("%#o", 0u);
    FMT("%#x", 0u);
    FMT("%#X", 255u);
    FMT("%#o", 8u);
    FMT("%#.3o", 8u);
    FMT("%#.0o", 0u);
    FMT("%.0d", 0);
    FMT("%.0x", 0u);
    FMT("%5.0d|", 0);
    FMT("%+.0d|", 0);
    FMT("%hhd", 200);
    FMT("%hhd", -129);
    FMT("%hhu", 511);
    FMT("%hhx", 0x1ff);
    FMT("%hd", 70000);
    FMT("%hd", -32768);
    FMT("%hu", 70000);
    FMT("%ho", 0x1ffff);
    FMT("%ld", (long)0x7fffffffffffffffL);
    FMT("%ld", -0x7fffffffffffffffL - 1);
    FMT("%lu", ~0ul);
    FMT("%lx", ~0ul);
    FMT("%lo", ~0ul);
    FMT("%lld", -1234567890123456789LL);
    FMT("%llu", 18446744073709551615ULL);
    FMT("%llX", 0xabcdef0123456789ULL);
    FMT("%#llo", 01777777777777777777777ULL);
    FMT("%zu", (size_t)-1);
    FMT("%zd", (ptrdiff_t)-5);
    FMT("%zx", (size_t)0x1000);
    FMT("%td", (ptrdiff_t)-99999);
    FMT("%tu", (ptrdiff_t)12345);
    FMT("%jd", (intmax_t)(-0x7fffffffffffffffLL - 1));
    FMT("%ju", (uintmax_t)~0ull);
    FMT("%jx", (uintmax_t)0x123);
    FMT("%c", 'A');
    FMT("%5c|", 'B');
    FMT("%-5c|", 'C');
    FMT("[%c]", '\0');
    FMT("%c%c%c", 'x', 'y', 'z');
    FMT("%s", "abc");
    FMT("%10s|", "abc");
    FMT("%-10s|", "abc");
    FMT("%.2s|", "abc");
    FMT("%.0s|", "abc");
    FMT("%.10s|", "abc");
    FMT("%8.2s|", "abcdef");
    FMT("%-8.2s|", "abcdef");
    FMT("%*d|", 6, 42);
    FMT("%*d|", -6, 42);
    FMT("%-*d|", 6, 42);
    FMT("%.*d|", 5, 42);
    FMT("%.*d|", -1, 42);
    FMT("%.*d|", 0, 0);
    FMT("%*.*d|", 8, 4, -42);
    FMT("%*.*s|", 7, 2, "hello");
    FMT("%-*.*s|", 7, 2, "hello");
    FMT("%*s|", -7, "hi");
    FMT("%*c|", 3, 'q');
    FMT("%0*d|", 7, -3);
    FMT("%+d %+d", 5, -5);
    FMT("% d % d", 5, -5);
    FMT("%#010x|", 0xbeefu);
    FMT("%#-10x|", 0xbeefu);
    FMT("%#10.6x|", 0xbeefu);
    FMT("%#08o|", 8u);
    FMT("%020lld|", -1LL);
    FMT("%-+20lld|", 1LL);
    FMT("%s=%d, %s=%x.", "a", 1, "b", 0xbu);
    FMT("pid %d cpu %u ptr-ish %lx name %s", 7, 3u, 0xffff800000000000ul, "init");
    FMT("%d%s%c%u%x", -1, "mid", '!', 2u, 255u);
    FMT("%-3d|%3d|%03d", 1, 2, 3);
    FMT("%.20d", 1);
    FMT("%40.30lx|", 0x1234ul);
    FMT("%hhi %hi %li %lli", 300, 70000, -7L, -8LL);

    // Flag combinations where C says one flag is ignored (GCC warns about them).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    FMT("%08.3d|", 42);
    FMT("%-08d|", 42);
    FMT("%+ d", 5);
    FMT("% +d", 5);
    FMT("%+u", 5u);
    FMT("% x", 5u);
#pragma GCC diagnostic pop
}

// Systematic sweep: flags x width x precision x conversion x value.
void test_printf_sweep() {
    static const char* const flags[] = {"", "-", "0", "+", " ", "#", "-0", "+0", "- ", "#0", "-#", "+ 0"};
    static const char* const widths[] = {"", "1", "6", "14"};
    static const char* const precs[] = {"", ".", ".0", ".1", ".4", ".12"};
    static const char convs[] = {'d', 'u', 'x', 'X', 'o'};
    static const long long svals[] = {0, 1, -1, 7, -8, 255, 4096, -65536, 2147483647LL,
                                      -9223372036854775807LL - 1};
    for (const char* f : flags) {
        for (const char* w : widths) {
            for (const char* p : precs) {
                for (char c : convs) {
                    bool sign_conv = c == 'd';
                    if (sign_conv && f[0] == '#') {
                        continue;  // '#' with %d is undefined behaviour
                    }
                    for (long long v : svals) {
                        char fmt[32];
                        ::snprintf(fmt, sizeof fmt, "[%%%s%s%sll%c]", f, w, p, c);
                        char ours[BUF], theirs[BUF];
                        int ro, rt;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                        if (sign_conv) {
                            ro = ::snprintf(ours, BUF, fmt, v);
                            rt = host::snprintf(theirs, BUF, fmt, v);
                        } else {
                            ro = ::snprintf(ours, BUF, fmt, (unsigned long long)v);
                            rt = host::snprintf(theirs, BUF, fmt, (unsigned long long)v);
                        }
#pragma GCC diagnostic pop
                        char desc[64];
                        ::snprintf(desc, sizeof desc, "sweep %s value %lld", fmt, v);
                        compare_outputs(__LINE__, desc, ours, ro, theirs, rt);
                    }
                }
            }
        }
    }
    // Strings and characters with width/precision/'-'.
    static const char* const sflags[] = {"", "-"};
    static const char* const strs[] = {"", "a", "hello", "a longer string of text"};
    for (const char* f : sflags) {
        for (const char* w : widths) {
            for (const char* p : precs) {
                for (const char* s : strs) {
                    char fmt[32], ours[BUF], theirs[BUF], desc[96];
                    ::snprintf(fmt, sizeof fmt, "[%%%s%s%ss]", f, w, p);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                    int ro = ::snprintf(ours, BUF, fmt, s);
                    int rt = host::snprintf(theirs, BUF, fmt, s);
#pragma GCC diagnostic pop
                    ::snprintf(desc, sizeof desc, "sweep %s \"%s\"", fmt, s);
                    compare_outputs(__LINE__, desc, ours, ro, theirs, rt);
                }
            }
            char fmt[32], ours[BUF], theirs[BUF];
            ::snprintf(fmt, sizeof fmt, "[%%%s%sc]", f, w);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            int ro = ::snprintf(ours, BUF, fmt, 'k');
            int rt = host::snprintf(theirs, BUF, fmt, 'k');
#pragma GCC diagnostic pop
            compare_outputs(__LINE__, fmt, ours, ro, theirs, rt);
        }
    }
}

// Things where we intentionally differ from glibc, or that glibc can't check.
void test_printf_own() {
    char buf[BUF];
    int r = ::snprintf(buf, sizeof buf, "%p", (void*)0x1234);
    CHECK(r == 18 && str_equal(buf, "0x0000000000001234"));
    r = ::snprintf(buf, sizeof buf, "%p", (void*)nullptr);
    CHECK(r == 18 && str_equal(buf, "0x0000000000000000"));
    r = ::snprintf(buf, sizeof buf, "%p", (void*)0xffff800000abcdefull);
    CHECK(r == 18 && str_equal(buf, "0xffff800000abcdef"));
    r = ::snprintf(buf, sizeof buf, "%20p|", (void*)0x10);
    CHECK(r == 21 && str_equal(buf, "  0x0000000000000010|"));
    r = ::snprintf(buf, sizeof buf, "%-20p|", (void*)0x10);
    CHECK(r == 21 && str_equal(buf, "0x0000000000000010  |"));

    const char* volatile null_str = nullptr;  // volatile: hide from -Wformat
    r = ::snprintf(buf, sizeof buf, "%s", null_str);
    CHECK(r == 6 && str_equal(buf, "(null)"));
    r = ::snprintf(buf, sizeof buf, "[%8s]", null_str);
    CHECK(r == 10 && str_equal(buf, "[  (null)]"));

    // Unknown conversions are echoed; a dangling '%' at the end too.
    const char* volatile odd = "a%qb%5yc";
    r = ::snprintf(buf, sizeof buf, odd);
    CHECK(r == 8 && str_equal(buf, "a%qb%5yc"));
    const char* volatile dangling = "x%-5";
    r = ::snprintf(buf, sizeof buf, dangling);
    CHECK(r == 4 && str_equal(buf, "x%-5"));
}

// Truncation: return value is the untruncated length, the output is cut at
// size-1 and NUL-terminated, and nothing past buf[size-1] is touched.
void test_printf_truncation() {
    const char* expect = "value=-12345 name=abcdef";
    const int full = 24;
    for (size_t size = 0; size <= 30; ++size) {
        char buf[40];
        for (char& c : buf) {
            c = '#';
        }
        int r = ::snprintf(size ? buf : nullptr, size, "value=%d name=%s", -12345, "abcdef");
        CHECK(r == full);
        if (size > 0) {
            size_t n = size - 1 < (size_t)full ? size - 1 : (size_t)full;
            CHECK(bytes_equal(buf, expect, n));
            CHECK(buf[n] == '\0');
            for (size_t i = n + 1; i < sizeof buf; ++i) {
                CHECK(buf[i] == '#');
            }
        }
    }
    char one[1] = {'#'};
    CHECK(::snprintf(one, 1, "%s", "xyz") == 3 && one[0] == '\0');
}

// vformat streams through the callback and counts what it emitted.
void test_vformat() {
    struct Ctx {
        char buf[64];
        int n;
    } ctx{{}, 0};
    auto sink = [](void* c, char ch) {
        Ctx* x = static_cast<Ctx*>(c);
        x->buf[x->n++] = ch;
    };
    auto run = [&](const char* fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vformat(sink, &ctx, fmt, ap);
        va_end(ap);
        return r;
    };
    int r = run("%s:%05d:%c", "cpu", 42, '!');
    ctx.buf[ctx.n] = '\0';
    CHECK(r == 11 && ctx.n == 11 && str_equal(ctx.buf, "cpu:00042:!"));
}

// ---------------------------------------------------------------- checksum

constexpr uint64_t TOP = 1ull << 63;

void fill_random(unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        p[i] = (unsigned char)rnd();
    }
}

void test_checksum() {
    static unsigned char a[LS_SIZE], b[LS_SIZE], c[LS_SIZE];
    static unsigned char raw[LS_SIZE + 16];

    // Known-input sanity and determinism.
    CHECK(ls_checksum(nullptr, 0) == ls_checksum("", 0));
    CHECK(ls_checksum("abc", 3) == ls_checksum("abc", 3));
    CHECK(ls_checksum("abc", 3) != ls_checksum("acb", 3));
    CHECK(ls_checksum("ab", 2) != ls_checksum("ab\0", 3));  // length matters

    // Top bit always clear; zero buffers of different lengths all differ.
    {
        bool top_clear = true;
        for (int t = 0; t < 20000; ++t) {
            size_t n = rnd() % 200;
            fill_random(a, n);
            top_clear &= (ls_checksum(a, n) & TOP) == 0;
        }
        CHECK(top_clear);
        static unsigned char zeros[128];
        uint64_t seen[129];
        bool distinct = true;
        for (size_t n = 0; n <= 128; ++n) {
            seen[n] = ls_checksum(zeros, n);
            top_clear &= (seen[n] & TOP) == 0;
            for (size_t m = 0; m < n; ++m) {
                distinct &= seen[m] != seen[n];
            }
        }
        CHECK(top_clear);
        CHECK(distinct);
    }

    // Order sensitivity: swapping two different bytes (anywhere, including
    // inside one word and inside the tail) changes the checksum.
    {
        bool ok = true;
        for (int t = 0; t < 1000; ++t) {
            size_t n = t < 500 ? LS_SIZE : 1 + rnd() % 40;
            fill_random(a, n);
            uint64_t h0 = ls_checksum(a, n);
            size_t i = rnd() % n, j = rnd() % n;
            if (t % 3 == 0 && n > 1) {
                j = i + 1 < n ? i + 1 : i - 1;  // adjacent bytes
            }
            if (a[i] == a[j]) {
                a[j] ^= 0x5a;
                h0 = ls_checksum(a, n);
            }
            if (i == j) {
                continue;
            }
            unsigned char tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
            ok &= ls_checksum(a, n) != h0;
        }
        CHECK(ok);
        // Swapping two whole 8-byte words.
        fill_random(a, LS_SIZE);
        uint64_t h0 = ls_checksum(a, LS_SIZE);
        for (int k = 0; k < 8; ++k) {
            unsigned char t = a[8 + k];
            a[8 + k] = a[800 + k];
            a[800 + k] = t;
        }
        CHECK(ls_checksum(a, LS_SIZE) != h0);
    }

    // Torn buffers: a prefix of one buffer followed by the suffix of another
    // must match neither checksum.  Half the pairs are random, half use the
    // structured "every byte derived from a version number" fill a writer
    // is likely to use.
    {
        bool ok = true;
        for (int t = 0; t < 1000; ++t) {
            if (t % 2 == 0) {
                fill_random(a, LS_SIZE);
                fill_random(b, LS_SIZE);
            } else {
                uint64_t va = rnd() % 1000, vb = va + 1;
                for (size_t i = 0; i < LS_SIZE; ++i) {
                    a[i] = (unsigned char)(va + i);
                    b[i] = (unsigned char)(vb + i);
                }
            }
            uint64_t ha = ls_checksum(a, LS_SIZE), hb = ls_checksum(b, LS_SIZE);
            size_t k = 1 + rnd() % (LS_SIZE - 1);  // split point in 1..LS_SIZE-1
            for (size_t i = 0; i < LS_SIZE; ++i) {
                c[i] = i < k ? a[i] : b[i];
            }
            uint64_t hc = ls_checksum(c, LS_SIZE);
            ok &= ha != hb && hc != ha && hc != hb && (hc & TOP) == 0;
            // Also "mixing halves": b's first half with a's second half.
            for (size_t i = 0; i < LS_SIZE; ++i) {
                c[i] = i < LS_SIZE / 2 ? b[i] : a[i];
            }
            hc = ls_checksum(c, LS_SIZE);
            ok &= hc != ha && hc != hb;
        }
        CHECK(ok);
    }

    // Alignment independence: same bytes at every offset 0..15.
    {
        bool ok = true;
        for (int t = 0; t < 50; ++t) {
            size_t n = t == 0 ? LS_SIZE : rnd() % 300;
            fill_random(a, n);
            uint64_t h = ls_checksum(a, n);
            for (size_t off = 0; off < 16; ++off) {
                for (size_t i = 0; i < n; ++i) {
                    raw[off + i] = a[i];
                }
                ok &= ls_checksum(raw + off, n) == h;
            }
        }
        CHECK(ok);
    }
}

// ls_checksum_last_byte agrees with ls_checksum for every length and every
// candidate byte, and so recovers a buffer from its prefix checksums.
void test_checksum_last_byte() {
    unsigned char a[64], cand[256];
    for (int c = 0; c < 256; ++c) cand[c] = (unsigned char)c;
    bool ok = true;
    for (size_t n = 1; n <= sizeof(a); ++n) {
        for (size_t i = 0; i < n; ++i) a[i] = (unsigned char)(i * 37 + n);
        uint64_t out[256];
        ls_checksum_last_byte(a, n, cand, 256, out);
        for (int c = 0; c < 256; ++c) {
            a[n - 1] = (unsigned char)c;
            ok &= out[c] == ls_checksum(a, n);
        }
    }
    CHECK(ok);
    // Recover a buffer byte by byte, as user/lswriters.cc does.
    unsigned char secret[LS_SIZE], got[LS_SIZE];
    for (size_t i = 0; i < LS_SIZE; ++i) secret[i] = (unsigned char)(i * 131 + (i >> 7));
    bool recovered = true;
    for (size_t i = 0; i < 300; ++i) {
        uint64_t out[256], want = ls_checksum(secret, i + 1);
        ls_checksum_last_byte(got, i + 1, cand, 256, out);
        int found = -1;
        for (int c = 0; c < 256; ++c) {
            if (out[c] == want) found = c;
        }
        recovered &= found == secret[i];
        got[i] = (unsigned char)(found < 0 ? 0 : found);
    }
    CHECK(recovered);
}

// ---------------------------------------------------------------- abi.hh

// The schemes every kernel has had, by number: the ABI. The table may grow
// (a new scheme takes the next number) but these never change.
constexpr const char* ABI_SCHEMES[] = {"rcu", "spinlock", "rwlock", "hazptr", "refcount",
                                       "diffref", "lopsided", "none", "busted"};

// A scheme name: lower case letter first, then letters, digits or '_'
// (a leading digit would read as a number in ls_scheme_parse).
bool valid_scheme_name(const char* name) {
    if (name == nullptr || !(name[0] >= 'a' && name[0] <= 'z')) return false;
    for (const char* p = name; *p != '\0'; ++p) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
    }
    return true;
}

void test_abi() {
    CHECK(LS_SIZE == 10000);
    // The table's invariants, whatever its length.
    CHECK(LS_NSCHEMES >= int(sizeof(ABI_SCHEMES) / sizeof(ABI_SCHEMES[0])));
    bool numbered = true, named = true, unique = true, parsed = true, kinds = true;
    int consistent = 0, broken = 0;
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        const ls_scheme_entry* e = ls_scheme_entry_of(s);
        char num[8], constant[32];
        ::snprintf(num, sizeof num, "%d", s);
        numbered &= e != nullptr && e->number == s;
        if (!e) continue;
        ::snprintf(constant, sizeof constant, "LS_%s", e->name);
        for (char* p = constant; *p; ++p) *p = *p >= 'a' && *p <= 'z' ? char(*p - 'a' + 'A') : *p;
        named &= valid_scheme_name(e->name) && ls_scheme_name(s) == e->name &&
                 str_equal(e->constant, constant);   // LS_ + the name in capitals
        for (int t = 0; t < s; ++t) unique &= !str_equal(LS_SCHEME_TABLE[t].name, e->name);
        parsed &= ls_scheme_parse(e->name) == s && ls_scheme_parse(num) == s;
        kinds &= (e->kind == ls_kind::consistent || e->kind == ls_kind::unprotected ||
                  e->kind == ls_kind::broken) &&
                 (e->storage == ls_storage::in_place || e->storage == ls_storage::copies);
        consistent += e->kind == ls_kind::consistent;
        broken += e->kind == ls_kind::broken;
    }
    CHECK(numbered);
    CHECK(named);
    CHECK(unique);
    CHECK(parsed);
    CHECK(kinds);
    CHECK(consistent > 0 && broken > 0);    // something to test, and a twin that must fail
    // The ABI: existing numbers keep their names.
    bool abi = true;
    for (int s = 0; s < int(sizeof(ABI_SCHEMES) / sizeof(ABI_SCHEMES[0])); ++s) {
        abi &= str_equal(ls_scheme_name(s), ABI_SCHEMES[s]);
    }
    CHECK(abi);
    CHECK(LS_RCU == 0 && LS_HAZPTR == 3 && LS_NONE == 7 && LS_BUSTED == 8);
    CHECK(ls_scheme_entry_of(LS_NONE)->kind == ls_kind::unprotected);
    CHECK(ls_scheme_entry_of(LS_BUSTED)->kind == ls_kind::broken);
    CHECK(ls_scheme_entry_of(LS_SPINLOCK)->storage == ls_storage::in_place);
    CHECK(ls_scheme_name(-1) == nullptr && ls_scheme_name(LS_NSCHEMES) == nullptr);
    CHECK(ls_scheme_entry_of(-1) == nullptr && ls_scheme_entry_of(LS_NSCHEMES) == nullptr);
    CHECK(ls_scheme_parse("hazptr") == LS_HAZPTR);
    CHECK(ls_scheme_parse("lopsided") == LS_LOPSIDED);
    CHECK(ls_scheme_parse("rc") == -1);
    CHECK(ls_scheme_parse("rcux") == -1);
    CHECK(ls_scheme_parse("") == -1);
    CHECK(ls_scheme_parse(nullptr) == -1);
    char past[8];
    ::snprintf(past, sizeof past, "%d", LS_NSCHEMES);
    CHECK(ls_scheme_parse(past) == -1);
    CHECK(ls_scheme_parse("1000") == -1);
    CHECK(ls_scheme_parse("1x") == -1);
    CHECK(ls_scheme_parse("-1") == -1);
    // Existing call numbers never change; a new call only adds one.
    CHECK(SYS_GETPID == 1 && SYS_LSWRITE == 16 && SYS_KTEST == 100 && SYS_KSTAT == 101 && SYS_KPRINT == 102);
    CHECK(NSYSCALL > SYS_KPRINT && syscall_defined(SYS_GETPID) && syscall_defined(SYS_KPRINT));
    CHECK(!syscall_defined(0) && !syscall_defined(NSYSCALL) && !syscall_defined((1ull << 32) | SYS_GETPID));
    CHECK(EFAULT == 14 && EINVAL == 22 && ENOSYS == 38 && ECHILD == 10);
}

}  // namespace

int main() {
    test_printf_fixed();
    test_printf_sweep();
    test_printf_own();
    test_printf_truncation();
    test_vformat();
    test_checksum();
    test_checksum_last_byte();
    test_abi();
    host::printf("test_lib: %d checks (%d printf comparisons with host snprintf), %d failures\n",
                 g_checks, g_fmt_cases, g_failures);
    host::printf("%s\n", g_failures == 0 ? "PASS" : "FAIL");
    return g_failures == 0 ? 0 : 1;
}
