// user/hammer.cc: `hammer SCHEME [SECONDS] [READERS-PER-CPU] [WRITERS]`:
// hammers one scheme's largestruct with concurrent readers and writers and
// checks that no reader ever sees a torn or reclaimed struct.
//
//   SCHEME           a scheme's name or number (lib/abi.hh's LS_SCHEMES;
//                    `hammer` alone lists them)
//   SECONDS          how long each reader and writer runs, from its own
//                    start: whole seconds ("2") or milliseconds ("500ms");
//                    default 2. Each also goes on past that until it has
//                    made MIN_READS reads or MIN_WRITES writes, so a child
//                    that a slow host started late still does its share.
//   READERS-PER-CPU  readers pinned to each CPU; default 1
//   WRITERS          writers; writer i is pinned to CPU i % ncpu; default 2
//
// How a torn read is recognised: writers only ever write whole structs
// (len = LS_SIZE) taken from NPATTERNS fixed patterns, so every struct a
// reader can legitimately see is all zeros (the boot state) or one of the
// patterns. Before forking, the parent computes the expected checksum of
// each of those for every read length used; a reader's sys_lsread result
// outside that set means it saw bytes of two versions, or freed (0x6b
// poisoned) memory. Any two patterns differ in every byte, so mixing two of
// them changes every 8-byte word involved.
//
// There is no shared memory and no pipe: each child prints one regular line
//   hammer: reader cpuC pid P: N reads, R/s, K inconsistent
//   hammer: writer cpuC pid P: N writes, R/s
// and reports pass/fail in its exit status (0 consistent; 1 saw an
// inconsistent read; 4 a system call failed). The parent then prints
//   hammer: SCHEME: K of N readers saw inconsistent reads
// and a verdict, "hammer: PASS ..." or "hammer: FAIL (...)".
//
// What a run must show depends on the scheme's kind in LS_SCHEMES.
// Exit status (the tests rely on it):
//   0  PASS: for a consistent scheme: no inconsistent read. For a broken
//      one (busted): the bug WAS caught (some reader saw an inconsistent
//      read), or there is one CPU, where a scheme that frees too early
//      cannot fail (a read section is never preempted, so no writer runs
//      in the middle of one). For an unprotected one (none): always (it
//      says whether torn reads were seen), unless a system call failed or
//      a child died.
//   1  FAIL: an inconsistent read under a consistent scheme; a broken
//      scheme NOT caught (the test is too weak); a failed system call or a
//      dead child.
//   2  bad usage.
//   3  the scheme is not available (sys_lsread returned -EINVAL).
#include "ulib.hh"

namespace {

constexpr int NPATTERNS = 16;
// Read lengths: full reads mostly, and sometimes one of these shorter ones.
constexpr size_t SHORT_LENS[] = {1, 8, 100, 1000, 4096, 9999};
constexpr int NSHORT = sizeof(SHORT_LENS) / sizeof(SHORT_LENS[0]);
constexpr int NLENS = NSHORT + 1;  // index NSHORT is LS_SIZE
constexpr int NEXPECTED = NPATTERNS + 1;  // all zeros + each pattern
// Each child's share: at least this many reads or writes however late a
// slow host started it (the tests require every child to have worked).
constexpr uint64_t MIN_READS = 64;
constexpr uint64_t MIN_WRITES = 4;

constexpr int STATUS_OK = 0;
constexpr int STATUS_INCONSISTENT = 1;
constexpr int STATUS_USAGE = 2;
constexpr int STATUS_UNAVAILABLE = 3;
constexpr int STATUS_SYSCALL_FAILED = 4;  // children only

// patterns[k - 1] is pattern k (k in 1..NPATTERNS).
char patterns[NPATTERNS][LS_SIZE];
// expected[l][0] is the checksum of LS_LENS(l) zero bytes, expected[l][k]
// that of the first LS_LENS(l) bytes of pattern k.
uint64_t expected[NLENS][NEXPECTED];

size_t read_len(int l) { return l == NSHORT ? LS_SIZE : SHORT_LENS[l]; }

// Byte i of pattern k. For k1 != k2 (both < 256) the difference
// (k1 - k2) * 131 mod 256 is never 0 (131 is odd), so two patterns differ
// in every byte; bytes i and i+1 differ by 7, so no 8-byte word is zero.
char pattern_byte(int k, size_t i) { return char((k * 131 + i * 7 + (i >> 8)) & 0xff); }

// Fill patterns[] and expected[]; assert every expected set has
// NEXPECTED distinct members (else a torn read could go unnoticed).
void make_patterns() {
    static const char zeros[LS_SIZE] = {};
    for (int k = 1; k <= NPATTERNS; ++k) {
        for (size_t i = 0; i < LS_SIZE; ++i) patterns[k - 1][i] = pattern_byte(k, i);
    }
    for (int l = 0; l < NLENS; ++l) {
        expected[l][0] = ls_checksum(zeros, read_len(l));
        for (int k = 1; k <= NPATTERNS; ++k) expected[l][k] = ls_checksum(patterns[k - 1], read_len(l));
        for (int a = 0; a < NEXPECTED; ++a) {
            for (int b = a + 1; b < NEXPECTED; ++b) {
                if (expected[l][a] == expected[l][b]) die("patterns %d and %d collide at len %zu", a, b, read_len(l));
            }
        }
    }
}

bool is_expected(int l, long sum) {
    for (int k = 0; k < NEXPECTED; ++k) {
        if (uint64_t(sum) == expected[l][k]) return true;
    }
    return false;
}

// SECONDS argument: "N" seconds or "Nms" milliseconds; 0 if malformed.
uint64_t parse_duration_ns(const char* s) {
    size_t n = strlen(s);
    long v;
    if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
        char digits[24];
        if (n - 2 >= sizeof(digits)) return 0;
        memcpy(digits, s, n - 2);
        digits[n - 2] = '\0';
        if (!parse_long(digits, &v) || v <= 0) return 0;
        return uint64_t(v) * 1000000;
    }
    if (!parse_long(s, &v) || v <= 0 || v > 3600) return 0;
    return uint64_t(v) * 1000000000;
}

uint64_t per_second(uint64_t count, uint64_t ns) { return ns ? count * 1000000000 / ns : 0; }

// A reader's life: pinned to `cpu`, read for `duration` ns and at least
// MIN_READS times, print the line, exit with its status. Full-length reads mostly; one in eight is short,
// except under a broken scheme, whose tests want the widest window (full
// reads).
[[noreturn]] void reader(int scheme, int cpu, uint64_t duration) {
    bool broken = ls_scheme_entry_of(scheme)->kind == ls_kind::broken;
    if (sys_setcpu(cpu) < 0) die("reader: setcpu(%d) failed", cpu);
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t(sys_getpid()) << 17);
    uint64_t reads = 0, bad = 0, start = sys_clock_ns(), now = start;
    uint64_t deadline = start + duration;
    long first_bad = 0;
    size_t first_bad_len = 0;
    int status = STATUS_OK;
    while (now < deadline || reads < MIN_READS) {
        for (int i = 0; i < 8; ++i) {
            uint64_t r = rand64(&rng);
            int l = (!broken && (r & 7) == 0) ? int((r >> 8) % NSHORT) : NSHORT;
            long sum = sys_lsread(scheme, read_len(l));
            if (sum < 0) {
                printf("hammer: reader cpu%d: sys_lsread(%d, %zu) = %ld\n", cpu, scheme, read_len(l), sum);
                status = STATUS_SYSCALL_FAILED;
                break;
            }
            ++reads;
            if (!is_expected(l, sum)) {
                if (bad++ == 0) {
                    first_bad = sum;
                    first_bad_len = read_len(l);
                }
            }
        }
        if (status != STATUS_OK) break;
        now = sys_clock_ns();
    }
    uint64_t ns = sys_clock_ns() - start;
    if (bad) {
        printf("hammer: reader cpu%d: first inconsistent read: len %zu checksum %#lx\n", cpu, first_bad_len,
               first_bad);
        if (status == STATUS_OK) status = STATUS_INCONSISTENT;
    }
    printf("hammer: reader cpu%d pid %d: %lu reads, %lu/s, %lu inconsistent\n", cpu, sys_getpid(), reads,
           per_second(reads, ns), bad);
    sys_exit(status);
}

// A writer's life: pinned to `cpu`, write whole patterns for `duration` ns
// and at least MIN_WRITES times.
[[noreturn]] void writer(int scheme, int index, int cpu, uint64_t duration) {
    if (sys_setcpu(cpu) < 0) die("writer: setcpu(%d) failed", cpu);
    uint64_t writes = 0, start = sys_clock_ns(), deadline = start + duration;
    int k = index % NPATTERNS;
    int status = STATUS_OK;
    while (sys_clock_ns() < deadline || writes < MIN_WRITES) {
        k = (k + 1) % NPATTERNS;
        long r = sys_lswrite(scheme, patterns[k], LS_SIZE);
        if (r != 0) {
            printf("hammer: writer cpu%d: sys_lswrite(%d, pattern %d) = %ld\n", cpu, scheme, k + 1, r);
            status = STATUS_SYSCALL_FAILED;
            break;
        }
        ++writes;
    }
    uint64_t ns = sys_clock_ns() - start;
    printf("hammer: writer cpu%d pid %d: %lu writes, %lu/s\n", cpu, sys_getpid(), writes,
           per_second(writes, ns));
    sys_exit(status);
}

[[noreturn]] void usage() {
    dprintf(2, "usage: hammer SCHEME [SECONDS|MSms] [READERS-PER-CPU] [WRITERS]\n  SCHEME:");
    for (const ls_scheme_entry& e : LS_SCHEME_TABLE) dprintf(2, " %s", e.name);
    dprintf(2, ", or 0-%d\n", LS_NSCHEMES - 1);
    sys_exit(STATUS_USAGE);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 5) usage();
    int scheme = ls_scheme_parse(argv[1]);
    if (scheme < 0) usage();
    const char* name = ls_scheme_name(scheme);
    ls_kind kind = ls_scheme_entry_of(scheme)->kind;
    uint64_t duration = argc > 2 ? parse_duration_ns(argv[2]) : 2000000000ull;
    long readers_per_cpu = argc > 3 ? atol_or(argv[3], -1) : 1;
    long nwriters = argc > 4 ? atol_or(argv[4], -1) : 2;
    if (duration == 0 || readers_per_cpu < 0 || readers_per_cpu > 16 || nwriters < 0 || nwriters > 64) usage();

    long probe = sys_lsread(scheme, LS_SIZE);
    if (probe == -EINVAL) {
        printf("hammer: %s: not available (sys_lsread returned -EINVAL)\n", name);
        return STATUS_UNAVAILABLE;
    }
    if (probe < 0) {
        printf("hammer: FAIL (%s: sys_lsread returned %ld)\n", name, probe);
        return 1;
    }
    make_patterns();
    if (kind == ls_kind::consistent && !is_expected(NSHORT, probe)) {
        printf("hammer: FAIL (%s: the struct's checksum %#lx before the run is neither zeros nor a pattern)\n",
               name, probe);
        return 1;
    }

    int ncpu = sys_ncpu();
    int nreaders = int(readers_per_cpu) * ncpu;
    printf("hammer: %s: %d CPUs, %d readers (%ld per CPU), %ld writers, %lu ms\n", name, ncpu, nreaders,
           readers_per_cpu, nwriters, duration / 1000000);
    int forked = 0, fork_failures = 0;
    // Writers first, so readers start against a changing struct.
    for (int w = 0; w < nwriters; ++w) {
        int pid = sys_fork();
        if (pid == 0) writer(scheme, w, w % ncpu, duration);
        if (pid < 0) ++fork_failures; else ++forked;
    }
    for (int i = 0; i < nreaders; ++i) {
        int pid = sys_fork();
        if (pid == 0) reader(scheme, i % ncpu, duration);
        if (pid < 0) ++fork_failures; else ++forked;
    }

    // Children's statuses: readers and writers both exit 0 when fine, 1 on
    // an inconsistent read (readers only), anything else on trouble.
    int inconsistent = 0, troubled = 0, status;
    for (int i = 0; i < forked; ++i) {
        int pid = sys_waitpid(0, &status);
        if (pid < 0) {
            ++troubled;
            break;
        }
        if (status == STATUS_INCONSISTENT) ++inconsistent;
        else if (status != STATUS_OK) {
            printf("hammer: child %d exited with status %d\n", pid, status);
            ++troubled;
        }
    }
    troubled += fork_failures;

    printf("hammer: %s: %d of %d readers saw inconsistent reads\n", name, inconsistent, nreaders);
    if (troubled) {
        printf("hammer: FAIL (%d children failed or could not be forked)\n", troubled);
        return 1;
    }
    if (kind == ls_kind::unprotected) {
        printf("hammer: PASS (%s is unprotected: torn reads %s)\n", name,
               inconsistent ? "seen, as expected" : "not seen this time");
        return 0;
    }
    if (kind == ls_kind::broken) {
        if (inconsistent) {
            printf("hammer: PASS (%s is broken on purpose, and the bug was caught)\n", name);
            return 0;
        }
        if (ncpu == 1) {
            printf("hammer: PASS (%s was not caught, and on 1 CPU a scheme that frees too early "
                   "cannot be: a read section is never preempted, so no writer frees the struct "
                   "in the middle of one)\n", name);
            return 0;
        }
        printf("hammer: FAIL (%s is broken on purpose but was not caught: no inconsistent read; "
               "the test is too weak)\n", name);
        return 1;
    }
    if (inconsistent) {
        printf("hammer: FAIL (%s: %d readers saw torn or reclaimed structs)\n", name, inconsistent);
        return 1;
    }
    // After the run the struct must still be all zeros or a whole pattern.
    long last = sys_lsread(scheme, LS_SIZE);
    if (last < 0 || !is_expected(NSHORT, last)) {
        printf("hammer: FAIL (%s: final struct checksum %#lx is neither zeros nor a pattern)\n", name, last);
        return 1;
    }
    printf("hammer: PASS\n");
    return 0;
}
