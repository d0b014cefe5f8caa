// user/gdbdemo.cc: `gdbdemo [SPIN_MS]`: put the kernel in a known state,
// then write LS_RCU, to look at in GDB (README "Debugging with GDB";
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
//     pinned to CPU 1 that spins in the kernel with preemption off for
//     SPIN_MS (default 2000) ms (`ktest spin-nopreempt`): it is inside a
//     read section, so it holds every grace period up meanwhile. It writes
//     "gdbdemo spinner" to LS_NONE first, which tells us it has started;
//  3. reaps the first child: its `proc` is freed with rcu_free, so a
//     callback on CPU 0 waits for a grace period that CPU 1 holds up;
//  4. sleeps 20 ms (CPU 0 passes through the scheduler: it no longer owes
//     that grace period anything), prints every scheme's checksum and first
//     bytes, "gdbdemo: ls SCHEME checksum C first TEXT", and the kernel's
//     own view of CPUs, RCU and processes (`ktest state`);
//  5. writes "gdbdemo rcu" to LS_RCU: with ls_sync=1 the writer calls
//     synchronize_rcu (the breakpoint) and waits there for the spinner.
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

// spinner(ms): on CPU 1, announce itself, then hold a read section for ms.
[[noreturn]] void spinner(long ms) {
    if (sys_setcpu(1) != 0) die("cannot run on CPU 1: boot with NCPU=2 or more");
    write_text(LS_NONE, SPINNER_TEXT);
    sys_ktest("spin-nopreempt", ms);
    sys_exit(0);
}
}  // namespace

int main(int argc, char** argv) {
    long spin_ms = argc > 1 ? atol_or(argv[1], -1) : 2000;
    if (spin_ms <= 0 || argc > 2) {
        dprintf(2, "usage: gdbdemo [SPIN_MS]\n");
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
    if (spinner_pid == 0) spinner(spin_ms);
    uint64_t started = ls_checksum(SPINNER_TEXT, sizeof(SPINNER_TEXT));
    while (uint64_t(sys_lsread(LS_NONE, sizeof(SPINNER_TEXT))) != started) sys_msleep(1);
    sys_msleep(20);                       // it is spinning now
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
    sys_ktest("state");
    write_text(LS_RCU, RCU_TEXT);         // with ls_sync=1: synchronize_rcu
    if (sys_waitpid(spinner_pid, nullptr) != spinner_pid) die("waitpid(%d) failed", spinner_pid);
    printf("gdbdemo: done\n");
    return 0;
}
