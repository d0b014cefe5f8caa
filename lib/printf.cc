// lib/printf.cc: implementation of lib/printf.hh.
//
// Freestanding: uses no libc functions, no floating point, no SSE. All
// output goes through a putc callback so that the same engine serves
// buffered (vsnprintf) and streaming (console) output.
#include "printf.hh"

#include <stdint.h>

namespace {

// Output sink: a callback plus a running count of characters produced.
struct Out {
    void (*putc)(void* ctx, char c);
    void* ctx;
    int count;

    void put(char c) {
        putc(ctx, c);
        ++count;
    }
    void repeat(char c, int n) {
        for (int i = 0; i < n; ++i) {
            put(c);
        }
    }
    void write(const char* s, int n) {
        for (int i = 0; i < n; ++i) {
            put(s[i]);
        }
    }
};

// Parsed conversion specification (everything between '%' and the letter).
struct Spec {
    bool left = false;    // '-'
    bool zero = false;    // '0'
    bool plus = false;    // '+'
    bool space = false;   // ' '
    bool alt = false;     // '#'
    int width = 0;
    int prec = -1;        // -1: no precision given
};

enum Length { LEN_INT, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

// Emit `body` (length n) padded with spaces to the field width.
void emit_padded(Out& out, const Spec& sp, const char* body, int n) {
    int pad = sp.width > n ? sp.width - n : 0;
    if (!sp.left) {
        out.repeat(' ', pad);
    }
    out.write(body, n);
    if (sp.left) {
        out.repeat(' ', pad);
    }
}

// Emit an integer conversion.  `mag` is the magnitude, `neg` its sign (only
// for signed conversions), `base` 8, 10 or 16, `upper` selects "0X"/A-F.
// Layout: [spaces] [sign] [0x] [zero padding] [precision zeros] digits [spaces]
void emit_integer(Out& out, Spec sp, uint64_t mag, bool neg, bool is_signed,
                  unsigned base, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];  // 64-bit octal needs 22 digits
    int nd = 0;
    while (mag != 0) {
        buf[sizeof buf - 1 - nd++] = digits[mag % base];
        mag /= base;
    }
    bool is_zero = nd == 0;
    // Default precision is 1: the value 0 prints as "0", but "%.0d" of 0
    // prints no digits at all.
    int prec = sp.prec < 0 ? 1 : sp.prec;
    if (sp.prec >= 0) {
        sp.zero = false;  // C: '0' is ignored when a precision is given
    }
    // '#' with %o: force a leading zero by raising the precision.
    if (sp.alt && base == 8 && prec <= nd) {
        prec = nd + 1;
    }

    char sign = 0;
    if (is_signed) {
        if (neg) {
            sign = '-';
        } else if (sp.plus) {
            sign = '+';
        } else if (sp.space) {
            sign = ' ';
        }
    }
    const char* prefix = "";
    if (sp.alt && base == 16 && !is_zero) {
        prefix = upper ? "0X" : "0x";
    }
    int plen = prefix[0] ? 2 : 0;

    int zeros = prec > nd ? prec - nd : 0;
    int len = (sign ? 1 : 0) + plen + zeros + nd;
    int pad = sp.width > len ? sp.width - len : 0;

    if (!sp.left && !sp.zero) {
        out.repeat(' ', pad);
    }
    if (sign) {
        out.put(sign);
    }
    out.write(prefix, plen);
    if (!sp.left && sp.zero) {
        out.repeat('0', pad);
    }
    out.repeat('0', zeros);
    out.write(buf + sizeof buf - nd, nd);
    if (sp.left) {
        out.repeat(' ', pad);
    }
}

// Parse a run of decimal digits at *p, advancing *p; saturates at a large value.
int parse_num(const char** p) {
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v < 100000000) {
            v = v * 10 + (**p - '0');
        }
        ++*p;
    }
    return v;
}

}  // namespace

int vformat(void (*putc)(void* ctx, char c), void* ctx, const char* fmt, va_list ap) {
    Out out{putc, ctx, 0};

    while (*fmt != '\0') {
        if (*fmt != '%') {
            out.put(*fmt++);
            continue;
        }
        const char* start = fmt++;  // remember '%' for unknown conversions
        Spec sp;

        // Flags.
        for (;; ++fmt) {
            if (*fmt == '-') {
                sp.left = true;
            } else if (*fmt == '0') {
                sp.zero = true;
            } else if (*fmt == '+') {
                sp.plus = true;
            } else if (*fmt == ' ') {
                sp.space = true;
            } else if (*fmt == '#') {
                sp.alt = true;
            } else {
                break;
            }
        }

        // Width.
        if (*fmt == '*') {
            ++fmt;
            int w = va_arg(ap, int);
            if (w < 0) {
                sp.left = true;
                w = w == -__INT_MAX__ - 1 ? __INT_MAX__ : -w;
            }
            sp.width = w;
        } else {
            sp.width = parse_num(&fmt);
        }

        // Precision.
        if (*fmt == '.') {
            ++fmt;
            if (*fmt == '*') {
                ++fmt;
                int p = va_arg(ap, int);
                sp.prec = p < 0 ? -1 : p;
            } else {
                sp.prec = parse_num(&fmt);  // "." alone means precision 0
            }
        }

        // Length modifier.
        Length len = LEN_INT;
        switch (*fmt) {
        case 'h':
            ++fmt;
            len = LEN_H;
            if (*fmt == 'h') {
                ++fmt;
                len = LEN_HH;
            }
            break;
        case 'l':
            ++fmt;
            len = LEN_L;
            if (*fmt == 'l') {
                ++fmt;
                len = LEN_LL;
            }
            break;
        case 'z': ++fmt; len = LEN_Z; break;
        case 't': ++fmt; len = LEN_T; break;
        case 'j': ++fmt; len = LEN_J; break;
        default: break;
        }

        char conv = *fmt;
        if (conv == '\0') {
            // Format ends mid-specification: print what we saw.
            out.write(start, (int)(fmt - start));
            break;
        }
        ++fmt;

        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            switch (len) {
            case LEN_HH: v = (signed char)va_arg(ap, int); break;
            case LEN_H:  v = (short)va_arg(ap, int); break;
            case LEN_L:  v = va_arg(ap, long); break;
            case LEN_LL: v = va_arg(ap, long long); break;
            case LEN_Z:  v = va_arg(ap, long); break;  // signed size_t
            case LEN_T:  v = va_arg(ap, ptrdiff_t); break;
            case LEN_J:  v = va_arg(ap, intmax_t); break;
            default:     v = va_arg(ap, int); break;
            }
            bool neg = v < 0;
            uint64_t mag = neg ? 0 - (uint64_t)v : (uint64_t)v;
            emit_integer(out, sp, mag, neg, true, 10, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            switch (len) {
            case LEN_HH: v = (unsigned char)va_arg(ap, unsigned); break;
            case LEN_H:  v = (unsigned short)va_arg(ap, unsigned); break;
            case LEN_L:  v = va_arg(ap, unsigned long); break;
            case LEN_LL: v = va_arg(ap, unsigned long long); break;
            case LEN_Z:  v = va_arg(ap, size_t); break;
            case LEN_T:  v = (uint64_t)va_arg(ap, ptrdiff_t); break;
            case LEN_J:  v = va_arg(ap, uintmax_t); break;
            default:     v = va_arg(ap, unsigned); break;
            }
            unsigned base = conv == 'o' ? 8 : conv == 'u' ? 10 : 16;
            emit_integer(out, sp, v, false, false, base, conv == 'X');
            break;
        }
        case 'p': {
            // Always "0x" + 16 digits, so pointers line up in columns.
            uintptr_t v = (uintptr_t)va_arg(ap, void*);
            char buf[18];
            buf[0] = '0';
            buf[1] = 'x';
            for (int i = 0; i < 16; ++i) {
                buf[17 - i] = "0123456789abcdef"[v & 0xf];
                v >>= 4;
            }
            emit_padded(out, sp, buf, 18);
            break;
        }
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (s == nullptr) {
                s = "(null)";
            }
            int n = 0;  // strnlen without depending on lib/string
            while ((sp.prec < 0 || n < sp.prec) && s[n] != '\0') {
                ++n;
            }
            emit_padded(out, sp, s, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            emit_padded(out, sp, &c, 1);
            break;
        }
        case '%':
            out.put('%');
            break;
        default:
            // Unknown conversion: echo the whole specification.
            out.write(start, (int)(fmt - start));
            break;
        }
    }
    return out.count;
}

namespace {

// vsnprintf's sink: stores while there is room for the NUL, counts always.
struct BufSink {
    char* buf;
    size_t size;
    size_t pos;
};

void buf_putc(void* ctx, char c) {
    BufSink* b = static_cast<BufSink*>(ctx);
    if (b->pos + 1 < b->size) {
        b->buf[b->pos] = c;
    }
    ++b->pos;
}

}  // namespace

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
    BufSink sink{buf, size, 0};
    int n = vformat(buf_putc, &sink, fmt, ap);
    if (size > 0) {
        buf[sink.pos < size ? sink.pos : size - 1] = '\0';
    }
    return n;
}

int snprintf(char* buf, size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
