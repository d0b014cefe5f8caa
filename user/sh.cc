// user/sh.cc: the shell that `make run` boots into (process 1).
//
// It reads a line from the console (fd 0), echoing what is typed since
// the serial console does not, splits it on spaces and runs it. Built-ins:
// help, ls, ps, state, exit [N], cpu [N]. Anything else is a program in the boot
// image: fork, exec it in the child, wait in the parent and report a
// non-zero exit status (or the exception that killed it; 127 is not
// reported, as in Unix shells: the child already said the program is
// missing or could not be run). A trailing `&` runs the program in the
// background; nothing reaps such children until the shell exits (there is
// no non-blocking wait).
#include "ulib.hh"

namespace {
constexpr size_t LINE_MAX = 256;
constexpr int MAX_WORDS = 32;

void put(const char* s, size_t n) { sys_write(1, s, n); }

// read_line(buf, size): read one line from the console into buf (without
// the newline, NUL-terminated), echoing characters and handling backspace
// (DEL 0x7f and BS 0x08) and Ctrl-U (erase the line). Returns its length,
// or -1 if reading fails.
long read_line(char* buf, size_t size) {
    size_t len = 0;
    while (true) {
        // One byte at a time: typed-ahead input (or a test feeding several
        // lines at once) stays in the kernel for the next read_line.
        char c;
        if (sys_read(0, &c, 1) != 1) return -1;
        if (c == '\n' || c == '\r') {
            put("\n", 1);
            buf[len] = 0;
            return long(len);
        } else if (c == 0x7f || c == 0x08) {
            if (len > 0) {
                --len;
                put("\b \b", 3);
            }
        } else if (c == 0x15) {   // Ctrl-U
            for (; len > 0; --len) put("\b \b", 3);
        } else if (c >= ' ' && c < 0x7f && len + 1 < size) {
            buf[len++] = c;
            put(&c, 1);
        }
    }
}

// split(line, words, max): cut line at spaces in place; returns the count.
int split(char* line, char** words, int max) {
    int n = 0;
    char* p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t') *p++ = 0;
        if (!*p) break;
        if (n == max) return -1;
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t') ++p;
    }
    return n;
}

void help() {
    printf("grace shell built-ins:\n"
           "  help          this text\n"
           "  ls            list the programs in the boot image\n"
           "  ps            list the processes (sys_procinfo on every pid)\n"
           "  state         the kernel's view of its CPUs, RCU and processes\n"
           "  trace         print the events traced since the last `trace` (boot option trace=...)\n"
           "  exit [N]      leave the shell (as process 1: power off) with status N\n"
           "  cpu [N]       show the CPU the shell runs on, or pin it to CPU N (-1: unpin)\n"
           "  NAME ARGS...  run program NAME with arguments; a final & runs it in the background\n");
}

// ps(): one line per live process, found by asking sys_procinfo about
// every pid handed out so far (pids are never reused; KSTAT_LAST_PID is
// the highest). The kernel looks each one up under RCU with no lock.
void ps() {
    static const char* const states[] = {"running", "runnable", "sleeping", "zombie"};
    long last = sys_kstat(KSTAT_LAST_PID);
    if (last < 0) {
        printf("sh: ps: the kernel does not say how many pids it handed out (%ld)\n", last);
        return;
    }
    printf("  PID  PPID  STATE     CPU  NAME\n");
    for (int pid = 1; pid <= last; ++pid) {
        procinfo info;
        int r = sys_procinfo(pid, &info);
        if (r == -ESRCH) continue;
        if (r < 0) {
            printf("sh: ps: sys_procinfo(%d) failed: %d\n", pid, r);
            return;
        }
        bool known = info.state >= 0 && info.state < 4;
        printf("%5d %5d  %-8s %4d  %s\n", info.pid, info.ppid, known ? states[info.state] : "?",
               info.cpu, info.name);
    }
}

// run(argc, argv): fork, exec argv[0] in the child and, unless
// `background`, wait for it and report how it ended.
void run(int argc, char** argv, bool background) {
    (void) argc;
    int pid = sys_fork();
    if (pid < 0) {
        printf("sh: fork failed: %d\n", pid);
        return;
    }
    if (pid == 0) {
        int r = sys_exec(argv[0], argv);
        if (r == -ENOENT) printf("sh: %s: no such program\n", argv[0]);
        else printf("sh: %s: exec failed: %d\n", argv[0], r);
        sys_exit(127);
    }
    if (background) {
        printf("[%d] %s\n", pid, argv[0]);
        return;
    }
    int status = 0;
    int r = sys_waitpid(pid, &status);
    if (r != pid) {
        printf("sh: waitpid(%d) returned %d\n", pid, r);
    } else if (status > 255) {
        printf("sh: %s killed (vector %d)\n", argv[0], status - 256);
    } else if (status != 0 && status != 127) {   // 127: the child said "no such program"
        printf("sh: %s exited with status %d\n", argv[0], status);
    }
}

// execute(line): run one command line.
void execute(char* line) {
    char* argv[MAX_WORDS + 1];
    int argc = split(line, argv, MAX_WORDS);
    if (argc < 0) {
        printf("sh: too many words (at most %d)\n", MAX_WORDS);
        return;
    }
    if (argc == 0) return;
    bool background = false;
    if (strcmp(argv[argc - 1], "&") == 0) {
        background = true;
        if (--argc == 0) return;
    } else if (size_t n = strlen(argv[argc - 1]); n > 1 && argv[argc - 1][n - 1] == '&') {
        background = true;                      // "prog arg&"
        argv[argc - 1][n - 1] = 0;
    }
    argv[argc] = nullptr;

    if (strcmp(argv[0], "help") == 0) {
        help();
    } else if (strcmp(argv[0], "ps") == 0) {
        ps();
    } else if (strcmp(argv[0], "ls") == 0) {
        if (sys_kprint("programs") < 0) printf("sh: ls: the kernel cannot list programs\n");
    } else if (strcmp(argv[0], "state") == 0) {
        if (sys_kprint("state") < 0) printf("sh: state: the kernel cannot print its state\n");
    } else if (strcmp(argv[0], "trace") == 0) {
        if (sys_kprint("trace") < 0) printf("sh: trace: the kernel cannot print its trace\n");
    } else if (strcmp(argv[0], "exit") == 0) {
        long status = 0;
        if (argc > 1 && !parse_long(argv[1], &status)) {
            printf("usage: exit [N]\n");
            return;
        }
        sys_exit(int(status));
    } else if (strcmp(argv[0], "cpu") == 0) {
        if (argc == 1) {
            printf("sh: on cpu %d of %d\n", sys_getcpu(), sys_ncpu());
            return;
        }
        long target;
        if (!parse_long(argv[1], &target)) {
            printf("usage: cpu [N]\n");
            return;
        }
        int r = sys_setcpu(int(target));
        if (r < 0) printf("sh: cpu %ld: no such CPU (%d CPUs)\n", target, sys_ncpu());
        else printf("sh: %s cpu %d\n", target < 0 ? "unpinned, on" : "pinned to", sys_getcpu());
    } else {
        run(argc, argv, background);
    }
}
}

int main(int, char**) {
    printf("Grace shell on %d CPUs: type `help` for commands, `ls` for programs\n", sys_ncpu());
    char line[LINE_MAX];
    while (true) {
        put("grace$ ", 7);
        long n = read_line(line, sizeof(line));
        if (n < 0) {
            printf("sh: cannot read the console\n");
            return 1;
        }
        execute(line);
    }
}
