// user/lswriters.cc: `lswriters SCHEME ROUNDS [WRITERS] [hog]`: writers
// never lose data. After any mix of failing and succeeding sys_lswrite
// calls from many processes, the struct must be exactly what the
// successful writes, in some order, make of it; a failed write leaves no
// trace.
//
// WRITERS processes (default 4, at most 7) write SCHEME's struct in
// ROUNDS rounds of about 1 s: three writes in four are good ones, each
// with a random length (the whole struct, any length, or a few bytes) and
// content that says who wrote it (the low 4 bits of every byte are the
// writer's number, and the high 4 bits a hash of the writer, its write
// number and the byte position). One in four must fail: too long
// (-EINVAL), an unknown scheme (-EINVAL), a buffer running off the top of
// the stack or in the kernel (-EFAULT); their bytes carry the marker 15
// in the low 4 bits. A round ends with a burst: at the same moment every
// writer makes 32 good writes back to back, shorter and shorter, so that
// the writes the struct ends with race each other and many of them stay
// visible. With `hog`, a memory hog (`hostile memhog`) holds memory at
// the kernel's reserve all along, so good writes also fail with -ENOMEM.
//
// How the result is checked, after every round. A write replaces the
// first `len` bytes of the struct, so byte i ends up from the last write
// (in the order the kernel applied them) whose length exceeds i. Each
// writer keeps, for every position, its own last successful write
// covering it (a short list: a write makes every earlier one of its own
// that is no longer than it irrelevant), and reports the list through a
// "mailbox": the struct of another scheme that only it writes. (The
// parent starts each round through one more scheme's struct, the
// "control".) The parent then reads the tested struct back byte by byte
// (sys_lsread gives the checksum of a prefix; ls_checksum_last_byte finds
// the byte that makes it match) and checks:
//   - every byte's writer number names a writer whose list covers that
//     position, and the byte is exactly that write's byte (not an older
//     version: a lost update; not a failed write's: marker 15, or a byte
//     of a good write that failed with -ENOMEM);
//   - a byte still from the initial struct only where no writer's
//     successful write reached;
//   - one order of all the writes explains every position at once: the
//     write a byte came from is later than every other writer's write
//     covering that position, and each writer's writes are in program
//     order; a cycle in these constraints means writes were torn or lost.
// Then, alone and (with `hog`) still under the memory hog, the parent
// does 200 more writes, good and bad, and after each the struct must be
// exactly its shadow copy: a failed write (-ENOMEM included) changes
// nothing, a successful one exactly its bytes.
//
// Prints "lswriters: SCHEME: PASS ..." (exit 0) or "... FAIL ..." with
// the first bad positions (exit 1); 2 for bad usage. (Under QEMU even
// `none`, which writes in place unprotected, usually passes: two 10 KB
// copies rarely overlap in time. tests/tests_hostile.py lists the broken
// kernels the check was shown to catch.)
#include "ulib.hh"

namespace {
constexpr int MAX_WRITERS = 7;        // a mailbox each, and a control struct
constexpr int MARKER = 15;
constexpr int MAX_ENTRIES = 64;         // a writer's list of covering writes
constexpr uint32_t MAGIC = 0x4c535752;  // "LSWR"
constexpr int FINAL_WRITES = 32;

uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// content(w, j, i): byte i of writer w's j-th good write (w 0: the
// initial struct); its low 4 bits are w.
uint8_t content(int w, uint32_t j, size_t i) {
    uint64_t h = mix((uint64_t(w) << 56) ^ (uint64_t(j) << 20) ^ (i >> 3));
    return uint8_t(((h >> ((i & 7) * 8)) & 0xf0) | uint64_t(w));
}

// fill(buf, w, j, len): the first len bytes of that write (as content()).
void fill(char* buf, int w, uint32_t j, size_t len) {
    for (size_t i = 0; i < len; i += 8) {
        uint64_t h = mix((uint64_t(w) << 56) ^ (uint64_t(j) << 20) ^ (i >> 3));
        for (size_t k = 0; k < 8 && i + k < len; ++k) buf[i + k] = char(((h >> (k * 8)) & 0xf0) | uint64_t(w));
    }
}

// The report a writer leaves in its mailbox.
struct entry {
    uint32_t j, len;       // a successful write still covering [.., len)
};
struct report {
    uint32_t magic, writer, round, attempts, successes, nomem, nentries;
    entry e[MAX_ENTRIES];  // oldest first; lengths strictly decreasing
};

uint64_t now_ms() { return sys_clock_ns() / 1000000; }
uintptr_t stack_top;      // first unmapped address above the stack

// recover_byte(scheme, buf, i, cands, k): byte i of the struct, given
// buf[0..i) already recovered; the k candidates are tried first. -1 if no
// byte matches (the struct changed meanwhile, or sys_lsread failed).
int recover_byte(int scheme, uint8_t* buf, size_t i, const uint8_t* cands, int k) {
    long want = sys_lsread(scheme, i + 1);
    if (want < 0) return -1;
    uint64_t sums[256];
    ls_checksum_last_byte(buf, i + 1, cands, k, sums);
    for (int c = 0; c < k; ++c) {
        if (sums[c] == uint64_t(want)) return cands[c];
    }
    static uint8_t all[256];
    for (int c = 0; c < 256; ++c) all[c] = uint8_t(c);
    ls_checksum_last_byte(buf, i + 1, all, 256, sums);
    for (int c = 0; c < 256; ++c) {
        if (sums[c] == uint64_t(want)) return c;
    }
    return -1;
}

// read_back(scheme, buf, n): the struct's first n bytes (no candidates).
bool read_back(int scheme, uint8_t* buf, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        int b = recover_byte(scheme, buf, i, nullptr, 0);
        if (b < 0) return false;
        buf[i] = uint8_t(b);
    }
    return true;
}

// failing_write(scheme, rng, buf): one write that must fail, with marker
// bytes; returns false if it did not fail as it must.
bool failing_write(int scheme, uint64_t* rng, char* buf) {
    uint64_t r = rand64(rng);
    memset(buf, MARKER | 0xa0, LS_SIZE + 128);
    long got, want;
    switch (r % 4) {
    case 0:
        got = sys_lswrite(scheme, buf, LS_SIZE + 1 + (r >> 8) % 100);
        want = -EINVAL;
        break;
    case 1:
        got = syscall4(SYS_LSWRITE, LS_NSCHEMES + (r >> 8) % 5, uintptr_t(buf), (r >> 16) % LS_SIZE);
        want = -EINVAL;
        break;
    case 2: {                 // the last k bytes of the stack, then the unmapped page
        size_t k = 1 + (r >> 8) % 40;
        char* top = reinterpret_cast<char*>(stack_top - k);
        memset(top, MARKER | 0x50, k);
        got = sys_lswrite(scheme, top, k + 1 + (r >> 16) % 4096);
        want = -EFAULT;
        break;
    }
    default:
        got = sys_lswrite(scheme, reinterpret_cast<const void*>(0xffffffff80100000ull), 1 + (r >> 8) % LS_SIZE);
        want = -EFAULT;
        break;
    }
    if (got != want) printf("lswriters: a bad write returned %ld, expected %ld\n", got, want);
    return got == want;
}

// The parent runs the writers in rounds through a "control" struct (a
// scheme of its own): it writes the number of the round to run, or DONE.
constexpr uint64_t DONE = ~0ull, RELEASE = ~0ull - 1;   // RELEASE: let the hog go
int control;                            // the control struct's scheme

// wait_for_round(r): until the control struct says round r or DONE.
bool wait_for_round(uint64_t r) {
    uint64_t want = ls_checksum(&r, 8), done = ls_checksum(&DONE, 8);
    for (;;) {
        long sum = sys_lsread(control, 8);
        if (uint64_t(sum) == want) return true;
        if (uint64_t(sum) == done) return false;
        sys_msleep(1);
    }
}

// write_retrying(scheme, p, n): a write that only a lack of memory may delay.
void write_retrying(int scheme, const void* p, size_t n) {
    while (sys_lswrite(scheme, p, n) == -ENOMEM) sys_msleep(5);
}

// writer(w, scheme, mailbox, run_ms): see the top. Each round: writes for
// run_ms, then the burst, then the report; exits 0 after DONE, or 3 when
// a call returned what it must not.
[[noreturn]] void writer(int w, int scheme, int mailbox, uint64_t run_ms) {
    static char buf[LS_SIZE + 128], final_buf[FINAL_WRITES][LS_SIZE];
    static report rep;
    sys_setcpu(w % sys_ncpu());
    uint64_t rng = 0x9e3779b97f4a7c15ull * uint64_t(w) + uint64_t(sys_getpid());
    rep = {MAGIC, uint32_t(w), 0, 0, 0, 0, 0, {}};
    int status = 0;
    for (uint32_t round = 1; status == 0 && wait_for_round(round); ++round) {
        // The run, then a burst: all writers wait for the same moment (the
        // next multiple of 500 ms on the shared clock) and make
        // FINAL_WRITES good writes back to back, shorter and shorter (the
        // struct ends as a staircase of many writes by every writer, each
        // visible beyond the next ones), so that the writes the struct ends
        // with race each other.
        uint64_t burst_at = (now_ms() + run_ms + 499) / 500 * 500;
        int burst = -1;                // -1: the run; then the burst's write number
        while (burst < FINAL_WRITES && status == 0) {
            uint64_t r = rand64(&rng);
            if (burst < 0 && now_ms() + 100 >= burst_at) {
                for (int b = 0; b < FINAL_WRITES; ++b) fill(final_buf[b], w, rep.attempts + 1 + b, LS_SIZE);
                while (now_ms() < burst_at) {}
                burst = 0;
            } else if (burst < 0 && r % 4 == 0) {
                if (!failing_write(scheme, &rng, buf)) status = 3;
                continue;
            }
            size_t len = (r >> 8) % 4 == 0 ? LS_SIZE : (r >> 8) % 4 == 1 ? 1 + (r >> 16) % 64 : 1 + (r >> 16) % LS_SIZE;
            if (burst >= 0) len = (LS_SIZE - 1) * size_t(FINAL_WRITES - burst) / FINAL_WRITES - size_t(w) * 17 - (r >> 16) % 50;
            if (rep.nentries == MAX_ENTRIES) len = LS_SIZE;   // keeps the list short
            uint32_t j = ++rep.attempts;
            const char* data = buf;
            if (burst >= 0) data = final_buf[burst++];
            else fill(buf, w, j, len);
            long got = sys_lswrite(scheme, data, len);
            if (got == -ENOMEM) {
                ++rep.nomem;
            } else if (got != 0) {
                printf("lswriters: writer %d: a good write returned %ld\n", w, got);
                status = 3;
            } else {
                ++rep.successes;
                while (rep.nentries > 0 && rep.e[rep.nentries - 1].len <= len) --rep.nentries;
                rep.e[rep.nentries++] = {j, uint32_t(len)};
            }
        }
        rep.round = round;
        write_retrying(mailbox, &rep, offsetof(report, e) + rep.nentries * sizeof(entry));
    }
    printf("lswriters: writer %d: %u good writes, %u succeeded, %u refused with -ENOMEM\n", w, rep.attempts,
           rep.successes, rep.nomem);
    sys_exit(status);
}

// The parent's view of the writers' reports, and the order check.
report reports[MAX_WRITERS + 1];        // index = writer number
int nwriters;

// covering(w, i): the index in w's list of its last write covering byte i, or -1.
int covering(int w, size_t i) {
    const report& r = reports[w];
    for (int k = int(r.nentries) - 1; k >= 0; --k) {
        if (r.e[k].len > i) return k;
    }
    return -1;
}

// "node" = (writer, list index); before[a] has bit b when write b must come
// before write a.
constexpr int NODES = MAX_WRITERS * MAX_ENTRIES;
uint64_t before[NODES][NODES / 64];
int node(int w, int k) { return (w - 1) * MAX_ENTRIES + k; }

// has_cycle(): whether the order constraints contradict each other (DFS).
bool has_cycle() {
    static uint8_t color[NODES];       // 0 new, 1 on the path, 2 done
    static int stack[NODES], next_bit[NODES];
    memset(color, 0, sizeof(color));
    for (int root = 0; root < NODES; ++root) {
        if (color[root]) continue;
        int depth = 0;
        stack[0] = root;
        next_bit[0] = 0;
        color[root] = 1;
        while (depth >= 0) {
            int a = stack[depth];
            int b = next_bit[depth];
            while (b < NODES && !(before[a][b / 64] >> (b % 64) & 1)) ++b;
            if (b == NODES) {
                color[a] = 2;
                --depth;
                continue;
            }
            next_bit[depth] = b + 1;
            if (color[b] == 1) return true;
            if (color[b] == 0) {
                color[b] = 1;
                stack[++depth] = b;
                next_bit[depth] = 0;
            }
        }
    }
    return false;
}

// check_struct(scheme, final): read the struct back into `final` and
// check every byte; returns the number of problems found.
int check_struct(int scheme, uint8_t* final) {
    int problems = 0;
    memset(before, 0, sizeof(before));
    for (int w = 1; w <= nwriters; ++w) {
        for (int k = 0; k + 1 < int(reports[w].nentries); ++k) {
            before[node(w, k + 1)][node(w, k) / 64] |= uint64_t(1) << (node(w, k) % 64);
        }
    }
    for (size_t i = 0; i < LS_SIZE; ++i) {
        uint8_t cands[MAX_WRITERS + 1];
        int idx[MAX_WRITERS + 1], ncand = 0;
        cands[ncand++] = content(0, 0, i);
        for (int w = 1; w <= nwriters; ++w) {
            idx[w] = covering(w, i);
            if (idx[w] >= 0) cands[ncand++] = content(w, reports[w].e[idx[w]].j, i);
        }
        int b = recover_byte(scheme, final, i, cands, ncand);
        if (b < 0) {
            printf("lswriters: FAIL: byte %zu cannot be read back (the struct changed?)\n", i);
            return problems + 1;
        }
        final[i] = uint8_t(b);
        int w = b & 15;
        const char* why = nullptr;
        if (w == MARKER) {
            why = "holds a byte of a write that failed";
        } else if (w == 0) {
            for (int v = 1; v <= nwriters && !why; ++v) {
                if (idx[v] >= 0) why = "is from the initial struct, but a successful write covered it: lost";
            }
            if (!why && b != content(0, 0, i)) why = "is neither the initial struct's nor any write's";
        } else if (w > nwriters) {
            why = "is no writer's (garbage or freed memory)";
        } else if (idx[w] < 0 || b != content(w, reports[w].e[idx[w]].j, i)) {
            why = "is from a write that is not that writer's last covering it: lost or failed";
        } else {
            for (int v = 1; v <= nwriters; ++v) {   // every other covering write came first
                if (v == w || idx[v] < 0) continue;
                int a = node(w, idx[w]), c = node(v, idx[v]);
                before[a][c / 64] |= uint64_t(1) << (c % 64);
            }
        }
        if (why && ++problems <= 5) printf("lswriters: FAIL: byte %zu (%#x, writer %d) %s\n", i, b, w, why);
    }
    if (problems == 0 && has_cycle()) {
        printf("lswriters: FAIL: no order of the writes explains the struct (torn or lost writes)\n");
        ++problems;
    }
    return problems;
}

// solo(scheme, shadow): 200 writes by this process alone, the struct
// compared with `shadow` after each. Returns problems; counts -ENOMEM.
int solo(int scheme, uint8_t* shadow, long* nomem) {
    static char buf[LS_SIZE + 128];
    uint64_t rng = 0x2545f4914f6cdd1dull;
    int problems = 0;
    for (uint32_t j = 1; j <= 200 && problems < 5; ++j) {
        uint64_t r = rand64(&rng);
        if (r % 3 == 0) {
            problems += !failing_write(scheme, &rng, buf);
        } else {
            size_t len = 1 + (r >> 8) % LS_SIZE;
            fill(buf, MAX_WRITERS + 1, j, len);
            long got = sys_lswrite(scheme, buf, len);
            if (got == 0) memcpy(shadow, buf, len);
            else if (got == -ENOMEM) ++*nomem;
            else ++problems, printf("lswriters: solo write returned %ld\n", got);
        }
        long sum = sys_lsread(scheme, LS_SIZE);
        if (sum < 0 || uint64_t(sum) != ls_checksum(shadow, LS_SIZE)) {
            printf("lswriters: FAIL: after solo write %u the struct is not what it must be\n", j);
            ++problems;
        }
    }
    return problems;
}

[[noreturn]] void usage() {
    dprintf(2, "usage: lswriters SCHEME ROUNDS [WRITERS] [hog]\n");
    sys_exit(2);
}

// set_control(v): tell the writers (round v, or DONE) and the hog's keeper.
void set_control(uint64_t v) { write_retrying(control, &v, sizeof(v)); }

// read_reports(mailbox, round, &hog): wait for every writer's report of this
// round (the first 12 bytes of its mailbox say magic, writer, round), then
// read them back. False if one cannot be read.
bool read_reports(const int* mailbox, uint32_t round, bool* hog) {
    for (int w = 1; w <= nwriters; ++w) {
        uint32_t head[3] = {MAGIC, uint32_t(w), round};
        uint64_t want = ls_checksum(head, sizeof(head));
        uint64_t start = now_ms();
        while (uint64_t(sys_lsread(mailbox[w], sizeof(head))) != want) {
            if (*hog && now_ms() > start + 10000) {
                // Even the report cannot get 4 pages: let the hog go.
                printf("lswriters: writer %d's report waits for memory: releasing the hog\n", w);
                set_control(RELEASE);
                *hog = false;
            }
            if (now_ms() > start + 60000) return false;
            sys_msleep(2);
        }
        report& r = reports[w];
        auto* raw = reinterpret_cast<uint8_t*>(&r);
        if (!read_back(mailbox[w], raw, offsetof(report, e)) || r.nentries > MAX_ENTRIES ||
            !read_back(mailbox[w], raw, offsetof(report, e) + r.nentries * sizeof(entry))) {
            return false;
        }
    }
    return true;
}

// mailbox_rank(s): the order in which other schemes' structs are taken
// for the control struct and the mailboxes: the ones written in place
// first (a short write to one needs no memory, even under the hog), then
// among each the ones that promise nothing (no test needs their own
// struct), then by number.
int mailbox_rank(int s) {
    const ls_scheme_entry* e = ls_scheme_entry_of(s);
    return (e->storage == ls_storage::in_place ? 0 : 2 * LS_NSCHEMES) +
           (e->kind == ls_kind::consistent ? LS_NSCHEMES : 0) + s;
}

// pick_mailboxes(scheme, out, n): up to n schemes other than `scheme`, in
// mailbox_rank order, into out[]; returns how many.
int pick_mailboxes(int scheme, int* out, int n) {
    int picked = 0;
    for (int rank = 0; rank < 4 * LS_NSCHEMES && picked < n; ++rank) {
        for (int s = 0; s < LS_NSCHEMES && picked < n; ++s) {
            if (s != scheme && mailbox_rank(s) == rank) out[picked++] = s;
        }
    }
    return picked;
}

}  // namespace

int main(int argc, char** argv) {
    bool hog = argc > 2 && strcmp(argv[argc - 1], "hog") == 0;
    int nargs = argc - hog;
    int scheme = nargs > 1 ? ls_scheme_parse(argv[1]) : -1;
    long rounds = nargs > 2 ? atol_or(argv[2], -1) : -1;
    long n = nargs > 3 ? atol_or(argv[3], -1) : 4;
    if (nargs < 3 || nargs > 4 || scheme < 0 || rounds < 1 || rounds > 600 || n < 1 || n > MAX_WRITERS) usage();
    nwriters = int(n);
    progname = "lswriters";
    stack_top = (uintptr_t(argv[0]) | 0xfff) + 1;   // argv's strings are not used after this
    const char* name = ls_scheme_name(scheme);
    // The control struct and the mailboxes: other schemes' structs.
    int mailbox[MAX_WRITERS + 1];
    if (pick_mailboxes(scheme, mailbox, nwriters + 1) < nwriters + 1) {
        die("%d writers need %d other schemes for their mailboxes and the control struct; "
            "lib/abi.hh has %d in all", nwriters, nwriters + 1, LS_NSCHEMES);
    }
    control = mailbox[0];
    set_control(0);
    static char buf[LS_SIZE];
    fill(buf, 0, 0, LS_SIZE);
    if (sys_lswrite(scheme, buf, LS_SIZE) != 0) die("the initial write failed");
    printf("lswriters: %s: %d writers, %ld rounds of 1 s%s\n", name, nwriters, rounds,
           hog ? ", under a memory hog" : "");
    for (int w = 1; w <= nwriters; ++w) {
        int pid = sys_fork();
        if (pid < 0) die("fork failed: %d", pid);
        if (pid == 0) writer(w, scheme, mailbox[w], 1000);
    }
    if (hog) {
        // A keeper process starts the memory hog (`hostile memhog 0`: it
        // holds memory until its parent exits) and exits on DONE, which
        // lets the hog go; this process (process 1) then reaps them all.
        if (sys_fork() == 0) {
            const char* hargv[] = {"hostile", "memhog", "0", nullptr};
            if (spawn("hostile", hargv) < 0) sys_exit(1);
            wait_for_round(RELEASE);    // (or DONE)
            sys_exit(0);
        }
        for (uint64_t give_up = now_ms() + 30000; now_ms() < give_up;) {
            if (sys_kstat(KSTAT_FREE_PAGES) < 2 * sys_kstat(KSTAT_RESERVE_PAGES)) break;
            sys_msleep(10);
        }
    }
    static uint8_t final[LS_SIZE];
    int problems = 0;
    bool hog_on = hog;
    for (uint32_t round = 1; round <= uint32_t(rounds) && !problems; ++round) {
        set_control(round);
        if (!read_reports(mailbox, round, &hog_on)) {
            printf("lswriters: FAIL: the writers' reports of round %u are missing or unreadable\n", round);
            ++problems;
            break;
        }
        problems += check_struct(scheme, final);
    }
    long nomem = 0, solo_nomem = 0;
    for (int w = 1; w <= nwriters; ++w) nomem += reports[w].nomem;
    int from_writer[16] = {};
    for (size_t i = 0; i < LS_SIZE; ++i) from_writer[final[i] & 15]++;
    if (!problems) problems += solo(scheme, final, &solo_nomem);   // still under the hog
    set_control(DONE);
    int status;
    while (int pid = sys_waitpid(0, &status)) {   // writers, keeper, hog and its orphans
        if (pid < 0) break;
        if (status >= 256 || status == 3) {
            printf("lswriters: FAIL: a child (pid %d) exited with %d\n", pid, status);
            ++problems;
        }
    }
    char from[100];
    int at = 0;
    for (int w = 0; w <= nwriters; ++w) at += snprintf(from + at, sizeof(from) - at, "%s%d", w ? "/" : "", w);
    for (int w = 0; w <= nwriters; ++w) {
        at += snprintf(from + at, sizeof(from) - at, "%s%d", w ? "/" : ": ", from_writer[w]);
    }
    printf("lswriters: %s: %s: bytes from writer (0: initial) %s; %ld good writes refused with -ENOMEM by "
           "the writers, %ld alone\n", name, problems ? "FAIL" : "PASS", from, nomem, solo_nomem);
    return problems ? 1 : 0;
}
