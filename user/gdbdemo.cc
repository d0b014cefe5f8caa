// user/gdbdemo.cc: `gdbdemo [MAX_MS]`: put the kernel in a known state,
// then write LS_RCU, to look at in GDB (docs/gdb.md;
// tests/tests_gdb.py drives it). Needs 2 CPUs or more.
//
//     make run-gdb-gdbdemo OPTS=ls_sync=1        (terminal 1)
//     make gdb                                   (terminal 2)
//     (gdb) break synchronize_rcu
//     (gdb) continue
//     (gdb) bt / grace-cpus / grace-rcu / grace-ps / grace-ls
//
// With the boot option ls_sync=1 an LS_RCU writer waits for its grace
// period in synchronize_rcu; without it the writer uses call_rcu and never
// reaches synchronize_rcu.
//
// What it does, in order:
//  1. writes "gdbdemo SCHEME #1".."#3" to every scheme but rcu and none
//     (three writes, so hazptr and refcount have old structs to reclaim);
//  2. starts a child that exits at once (reaped in step 3), and a spinner
//     pinned to CPU 1 that holds a read section in the kernel, with
//     interrupts off, until someone asks for a grace period after the
//     running one (`ktest hold-gp`; at most MAX_MS, default 60000, ms):
//     it holds every grace period up meanwhile, and nothing on CPU 1
//     changes while GDB looks. It writes "gdbdemo spinner" to LS_NONE
//     first, and `ktest hold-gp-ready` tells us when it holds;
//  3. reaps the first child: its `proc` is freed with rcu_free, so a
//     callback on CPU 0 waits for a grace period that CPU 1 holds up;
//  4. sleeps 20 ms (CPU 0 passes through the scheduler: it no longer owes
//     that grace period anything), prints every scheme's checksum and first
//     bytes, "gdbdemo: ls SCHEME checksum C first TEXT", and the kernel's
//     own view of CPUs, RCU and processes (sys_kprint("state"));
//  5. writes "gdbdemo rcu" to LS_RCU: with ls_sync=1 the writer calls
//     synchronize_rcu (the breakpoint), which asks for the next grace
//     period: the spinner lets go, and the writer's wait ends.
// Then it waits for the spinner, prints "gdbdemo: done" and exits 0.
#include "ulib.hh"

namespace {
const char RCU_TEXT[] = "gdbdemo rcu";
const char SPINNER_TEXT[] = "gdbdemo spinner";

// write_text(scheme, text): publish `text` (with its NUL) in scheme's struct.
void write_text(int scheme, const char* text) {
    long r = sys_lswrite(scheme, text, strlen(text) + 1);
    if (r != 0) die("sys_lswrite(%s) failed: %ld", ls_scheme_name(scheme), r);
}

// spinner(max_ms): on CPU 1, announce itself, then hold the running grace
// period until a later one is wanted (or max_ms passes: status 1).
[[noreturn]] void spinner(long max_ms) {
    if (sys_setcpu(1) != 0) die("cannot run on CPU 1: boot with NCPU=2 or more");
    write_text(LS_NONE, SPINNER_TEXT);
    sys_exit(sys_ktest("hold-gp", max_ms) == 0 ? 0 : 1);
}
}  // namespace

int main(int argc, char** argv) {
    long max_ms = argc > 1 ? atol_or(argv[1], -1) : 60000;
    if (max_ms <= 0 || argc > 2) {
        dprintf(2, "usage: gdbdemo [MAX_MS]\n");
        return 2;
    }
    if (sys_ncpu() < 2) die("needs 2 CPUs or more (NCPU=2)");
    sys_setcpu(0);
    char last_text[LS_NSCHEMES][32];      // what each struct begins with at step 5
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        if (s == LS_RCU || s == LS_NONE) continue;
        for (int k = 1; k <= 3; ++k) {
            snprintf(last_text[s], sizeof(last_text[s]), "gdbdemo %s #%d", ls_scheme_name(s), k);
            write_text(s, last_text[s]);
        }
    }
    snprintf(last_text[LS_NONE], sizeof(last_text[LS_NONE]), "%s", SPINNER_TEXT);
    snprintf(last_text[LS_RCU], sizeof(last_text[LS_RCU]), "%s", RCU_TEXT);

    int zombie = sys_fork();
    if (zombie == 0) sys_exit(0);
    int spinner_pid = sys_fork();
    if (spinner_pid == 0) spinner(max_ms);
    uint64_t started = ls_checksum(SPINNER_TEXT, sizeof(SPINNER_TEXT));
    while (uint64_t(sys_lsread(LS_NONE, sizeof(SPINNER_TEXT))) != started) sys_msleep(1);
    if (sys_ktest("hold-gp-ready", max_ms) != 0) die("the spinner did not start holding");
    if (sys_waitpid(zombie, nullptr) != zombie) die("waitpid(%d) failed", zombie);
    sys_msleep(20);
    printf("gdbdemo: pid %d, spinner pid %d on cpu 1, reaped pid %d\n", sys_getpid(),
           spinner_pid, zombie);

    // LS_RCU's struct after step 5: all zero since boot, then RCU_TEXT.
    static char rcu_next[LS_SIZE];
    memcpy(rcu_next, RCU_TEXT, sizeof(RCU_TEXT));
    for (int s = 0; s < LS_NSCHEMES; ++s) {
        long sum = s == LS_RCU ? long(ls_checksum(rcu_next, LS_SIZE)) : sys_lsread(s, LS_SIZE);
        printf("gdbdemo: ls %s checksum %ld first %s%s\n", ls_scheme_name(s), sum, last_text[s],
               s == LS_RCU ? " (after the write)" : "");
    }
    if (sys_kprint("state") != 0) die("sys_kprint(\"state\") failed");
    write_text(LS_RCU, RCU_TEXT);         // with ls_sync=1: synchronize_rcu
    int status = -1;
    if (sys_waitpid(spinner_pid, &status) != spinner_pid) die("waitpid(%d) failed", spinner_pid);
    if (status != 0) die("the spinner gave up: no later grace period was asked for");
    printf("gdbdemo: done\n");
    return 0;
}
