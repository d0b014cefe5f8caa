// user/ulib.cc: the user runtime's C++ half: printf, die, spawn.
#include "ulib.hh"

const char* progname = "?";

namespace {
struct line_buffer {
    int fd = 1;
    size_t n = 0;
    char buf[512];
    void flush() {
        if (n) sys_write(fd, buf, n);
        n = 0;
    }
    static void put(void* ctx, char c) {
        auto* lb = static_cast<line_buffer*>(ctx);
        lb->buf[lb->n++] = c;
        if (lb->n == sizeof(lb->buf)) lb->flush();
    }
};
}

int vdprintf(int fd, const char* fmt, va_list ap) {
    line_buffer lb;
    lb.fd = fd;
    int n = vformat(line_buffer::put, &lb, fmt, ap);
    lb.flush();
    return n;
}

int printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vdprintf(1, fmt, ap);
    va_end(ap);
    return n;
}

int dprintf(int fd, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vdprintf(fd, fmt, ap);
    va_end(ap);
    return n;
}

void die(const char* fmt, ...) {
    char buf[400];
    int n = snprintf(buf, sizeof(buf), "%s: ", progname);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    va_end(ap);
    dprintf(2, "%s\n", buf);
    sys_exit(1);
}

int spawn(const char* name, const char* const* argv) {
    int pid = sys_fork();
    if (pid == 0) {
        int r = sys_exec(name, argv);
        dprintf(2, "%s: exec %s failed: %d\n", progname, name, r);
        sys_exit(127);
    }
    return pid;
}

uint64_t rand64(uint64_t* s) {
    uint64_t x = *s ? *s : 0x2545f4914f6cdd1dUL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

long atol_or(const char* s, long fallback) {
    long v;
    return s && parse_long(s, &v) ? v : fallback;
}

bool fault_in_child(const char* what, void (*fn)(), int expected, int alternative) {
    int pid = sys_fork();
    if (pid < 0) die("fork failed: %d", pid);
    if (pid == 0) {
        fn();
        printf("%s: %s did not fault\n", progname, what);
        sys_exit(1);
    }
    int status = -1;
    int got = sys_waitpid(pid, &status);
    bool ok = got == pid && (status == expected || (alternative >= 0 && status == alternative));
    char also[16] = "";
    if (alternative >= 0) snprintf(also, sizeof(also), " or %d", alternative);
    printf("%s: child %d (%s): status %d, expected %d%s: %s\n", progname, pid, what, status, expected,
           also, ok ? "ok" : "FAILED");
    return ok;
}

bool normal_child_exits() {
    int pid = sys_fork();
    if (pid == 0) sys_exit(0);
    int status = -1;
    if (pid > 0 && sys_waitpid(pid, &status) == pid && status == 0) return true;
    printf("%s: a normal child after the faults exited with %d: FAILED\n", progname, status);
    return false;
}

// The runtime entry: argc in rdi, argv in rsi (set by the kernel's exec).
extern int main(int argc, char** argv);
extern "C" [[noreturn]] void user_start(int argc, char** argv) {
    if (argc > 0) progname = argv[0];
    sys_exit(main(argc, argv));
}
