// user/lsbad.cc: `lsbad`: bad arguments to sys_lsread and sys_lswrite, for
// every scheme in lib/abi.hh's LS_SCHEMES. Each bad call must fail with the right errno
// (-EINVAL for an unknown scheme or len > LS_SIZE, -EFAULT for a buffer
// that is not readable user memory) and leave the struct unchanged; a good
// partial write must change exactly the bytes it names.
//
// lsbad is the only writer while it runs, so it tracks each scheme's
// contents in `shadow` and predicts every checksum with ls_checksum. Run as
// process 1 (a fresh boot) it also checks the boot state is all zeros;
// otherwise it first writes a known full struct.
//
// Every scheme in the table must exist (the kernel checks at boot that it
// registers them all): one whose sys_lsread returns -EINVAL fails. Prints
// "lsbad: SCHEME ok" per scheme and "lsbad: PASS (N schemes checked)";
// exits 0 iff every check held.
#include "ulib.hh"

namespace {

int failures = 0;
char shadow[LS_SIZE];  // what the current scheme's struct should hold

void check(bool ok, const char* scheme, const char* what, long got) {
    if (!ok) {
        printf("lsbad: %s: FAILED: %s (got %ld)\n", scheme, what, got);
        ++failures;
    }
}

uint64_t shadow_sum() { return ls_checksum(shadow, LS_SIZE); }

// The struct must still hold `shadow`.
void check_unchanged(int s, const char* after) {
    long sum = sys_lsread(s, LS_SIZE);
    char what[120];
    snprintf(what, sizeof(what), "struct unchanged after %s", after);
    check(sum >= 0 && uint64_t(sum) == shadow_sum(), ls_scheme_name(s), what, sum);
}

// Every check on one scheme.
void check_scheme(int s) {
    const char* name = ls_scheme_name(s);
    static char buf[LS_SIZE + 1];

    // Start from known contents.
    long initial = sys_lsread(s, LS_SIZE);
    memset(shadow, 0, LS_SIZE);
    if (sys_getpid() == 1) {
        check(initial >= 0 && uint64_t(initial) == shadow_sum(), name, "all zeros at boot", initial);
    } else {
        for (size_t i = 0; i < LS_SIZE; ++i) shadow[i] = char(i * 13 + 5);
        check(sys_lswrite(s, shadow, LS_SIZE) == 0, name, "full write of a known struct", 0);
    }

    // Lengths: 0 and LS_SIZE are fine, LS_SIZE + 1 and huge are not.
    long r = sys_lsread(s, 0);
    check(r >= 0 && uint64_t(r) == ls_checksum(nullptr, 0), name, "lsread len 0 = checksum of nothing", r);
    r = sys_lsread(s, LS_SIZE);
    check(r >= 0 && uint64_t(r) == shadow_sum(), name, "lsread len LS_SIZE", r);
    r = sys_lsread(s, LS_SIZE + 1);
    check(r == -EINVAL, name, "lsread len LS_SIZE+1 = -EINVAL", r);
    r = sys_lsread(s, size_t(-1));
    check(r == -EINVAL, name, "lsread len ~0 = -EINVAL", r);
    memset(buf, 0x5a, sizeof(buf));
    r = sys_lswrite(s, buf, LS_SIZE + 1);
    check(r == -EINVAL, name, "lswrite len LS_SIZE+1 = -EINVAL", r);
    check_unchanged(s, "lswrite len LS_SIZE+1");

    // Bad buffers: -EFAULT, nothing changes.
    struct {
        uintptr_t addr;
        size_t len;
        const char* what;
    } bad[] = {
        {0, 1, "lswrite NULL len 1 = -EFAULT"},
        {0, 100, "lswrite NULL len 100 = -EFAULT"},
        {0xffffffff80100000ull, 100, "lswrite kernel address = -EFAULT"},
        {0xffffffff80100000ull, LS_SIZE, "lswrite kernel address len LS_SIZE = -EFAULT"},
        {0x10000000, 100, "lswrite unmapped address = -EFAULT"},
        {0x800000000000ull - 50, 100, "lswrite across the top of user space = -EFAULT"},
    };
    for (auto& b : bad) {
        r = sys_lswrite(s, reinterpret_cast<const void*>(b.addr), b.len);
        check(r == -EFAULT, name, b.what, r);
        check_unchanged(s, b.what);
    }

    // len 0 with NULL: succeeds and writes nothing.
    r = sys_lswrite(s, nullptr, 0);
    check(r == 0, name, "lswrite NULL len 0 = 0", r);
    check_unchanged(s, "lswrite NULL len 0");

    // A 100-byte write changes exactly the first 100 bytes.
    for (int i = 0; i < 100; ++i) buf[i] = char(0xa0 + i + s);
    r = sys_lswrite(s, buf, 100);
    check(r == 0, name, "lswrite len 100 = 0", r);
    memcpy(shadow, buf, 100);
    check_unchanged(s, "lswrite len 100 (only the first 100 bytes replaced)");
    r = sys_lsread(s, 100);
    check(r >= 0 && uint64_t(r) == ls_checksum(buf, 100), name, "lsread len 100 after the write", r);

    // A full write, then a 1-byte write.
    for (size_t i = 0; i < LS_SIZE; ++i) buf[i] = char(i * 7 + s);
    r = sys_lswrite(s, buf, LS_SIZE);
    check(r == 0, name, "lswrite len LS_SIZE = 0", r);
    memcpy(shadow, buf, LS_SIZE);
    check_unchanged(s, "lswrite len LS_SIZE");
    buf[0] = char(0xee);
    r = sys_lswrite(s, buf, 1);
    check(r == 0, name, "lswrite len 1 = 0", r);
    shadow[0] = char(0xee);
    check_unchanged(s, "lswrite len 1");

    // Back to zeros, as at boot, for whoever runs next.
    memset(shadow, 0, LS_SIZE);
    check(sys_lswrite(s, shadow, LS_SIZE) == 0, name, "lswrite zeros", 0);
    check_unchanged(s, "lswrite zeros");
}

}  // namespace

int main(int argc, char**) {
    if (argc != 1) {
        dprintf(2, "usage: lsbad\n");
        return 2;
    }
    static char buf[16] = "unused";
    // Unknown schemes: -EINVAL from both calls, whatever the other arguments.
    long unknown[] = {LS_NSCHEMES, -1, 1000};
    for (long s : unknown) {
        long r = syscall4(SYS_LSREAD, uint64_t(s), LS_SIZE);
        check(r == -EINVAL, "unknown", "lsread unknown scheme = -EINVAL", r);
        r = syscall4(SYS_LSREAD, uint64_t(s), 0);
        check(r == -EINVAL, "unknown", "lsread unknown scheme len 0 = -EINVAL", r);
        r = syscall4(SYS_LSWRITE, uint64_t(s), uintptr_t(buf), sizeof(buf));
        check(r == -EINVAL, "unknown", "lswrite unknown scheme = -EINVAL", r);
        if (r != -EINVAL) printf("lsbad: (scheme %ld)\n", s);
    }

    int checked = 0;
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        long probe = sys_lsread(s, LS_SIZE);
        if (probe == -EINVAL) {
            printf("lsbad: %s: FAILED: not available (sys_lsread = -EINVAL)\n", ls_scheme_name(s));
            ++failures;
            continue;
        }
        int before = failures;
        check_scheme(s);
        ++checked;
        if (failures == before) printf("lsbad: %s ok\n", ls_scheme_name(s));
    }
    if (failures) {
        printf("lsbad: FAIL (%d checks failed)\n", failures);
        return 1;
    }
    printf("lsbad: PASS (%d schemes checked)\n", checked);
    return 0;
}
