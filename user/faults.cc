// user/faults.cc: every kind of fault in user code kills only the
// faulting process, and its parent's waitpid sees 256 + the vector.
//
// One child per fault: page faults (read and write of unmapped memory,
// a write to the program's read-only text, executing its non-executable
// data, jumping into the kernel, a stack overflow by unbounded recursion
// into the unmapped page below the stack), general protection faults (a
// privileged instruction, a non-canonical address, `int $0x80` through an
// interrupt gate user code may not use), divide errors (by zero, and
// INT64_MIN / -1), invalid opcodes (ud2, the 32-bit-only `into`), a
// breakpoint (int3: the kernel lets user code raise vector 3, as Linux
// does for SIGTRAP), a single-step trap (RFLAGS.TF set with popf: vector
// 1), and a push with a non-canonical stack pointer (a stack fault,
// vector 12, on hardware; QEMU's TCG raises a general protection fault). The kernel logs one line per kill, naming the process, its
// pid and the fault (tests/tests_hostile.py checks them). Afterwards a
// normal child must run and exit 0, and every page must have come back.
// One line per child; "faults: PASS" and exit 0 iff every check held.
#include "ulib.hh"

// A function in the program's text: its address is mapped read-only.
[[gnu::noinline, gnu::used]] void text_marker() { asm volatile(""); }

namespace {
constexpr int PF = 14, GP = 13, DE = 0, UD = 6, BP = 3, DB = 1, SS = 12;
volatile long zero = 0;
volatile long minus_one = -1;
// Writable data (not executable: the kernel maps data pages NX).
unsigned char data_code[16] = {0xc3};   // `ret`, if it ever ran

void read_unmapped() { (void) *reinterpret_cast<volatile long*>(0x10000000UL); }
void write_unmapped() { *reinterpret_cast<volatile long*>(0x7f00000000UL) = 1; }
void write_text() { *reinterpret_cast<volatile char*>(uintptr_t(&text_marker)) = 0; }
void exec_data() { reinterpret_cast<void (*)()>(data_code)(); }
void jump_kernel() { reinterpret_cast<void (*)()>(0xffffffff80100000UL)(); }

// recurse(n): no tail call, 512 bytes a frame: the 64 KiB stack ends soon.
[[gnu::noinline]] long recurse(long n) {
    if (n < 0) return 0;                 // never: only keeps g++ from warning
    volatile char frame[512];
    frame[n & 511] = char(n);
    return recurse(n + 1) + frame[0];
}
void stack_overflow() { recurse(0); }

void privileged() { asm volatile("cli"); }
void non_canonical() { (void) *reinterpret_cast<volatile long*>(0x8000000000000000UL); }
void int80() { asm volatile("int $0x80"); }
void divide_by_zero() { volatile long x = 42 / zero; (void) x; }
void divide_overflow() { volatile long x = (-0x7fffffffffffffffL - 1) / minus_one; (void) x; }
void invalid_opcode() { asm volatile("ud2"); }
void into() { asm volatile(".byte 0xce"); }     // `into`: invalid in 64-bit mode
void breakpoint() { asm volatile("int3"); }
void single_step() { asm volatile("pushfq; orq $0x100, (%%rsp); popfq; nop; nop" ::: "memory", "cc"); }
// The push faults before anything is written; rsp is never restored.
void bad_stack() { asm volatile("movabsq $0x8000000000000000, %%rsp; pushq $0" ::: "memory"); }

struct fault_case {
    const char* name;
    void (*fn)();
    int vector;
    int vector_qemu = -1;    // what QEMU's emulation raises instead, if it differs
};
const fault_case cases[] = {
    {"read unmapped memory", read_unmapped, PF},
    {"write unmapped memory", write_unmapped, PF},
    {"write own text", write_text, PF},
    {"execute own data (NX)", exec_data, PF},
    {"jump into the kernel", jump_kernel, PF},
    {"stack overflow (unbounded recursion)", stack_overflow, PF},
    {"privileged instruction (cli)", privileged, GP},
    {"non-canonical address", non_canonical, GP},
    {"int $0x80 (kernel-only gate)", int80, GP},
    {"divide by zero", divide_by_zero, DE},
    {"divide overflow (INT64_MIN / -1)", divide_overflow, DE},
    {"invalid opcode (ud2)", invalid_opcode, UD},
    {"invalid opcode (into)", into, UD},
    {"breakpoint (int3)", breakpoint, BP},
    {"single step (TF)", single_step, DB},
    {"push with a non-canonical rsp", bad_stack, SS, GP},
};

long settled_free_pages() {
    sys_ktest("rcu-barrier");       // exited processes are freed after a grace period
    return sys_kstat(KSTAT_FREE_PAGES);
}
}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        dprintf(2, "usage: faults\n");
        return 2;
    }
    long before = settled_free_pages();
    int bad = 0;
    for (const fault_case& c : cases) {
        bad += !fault_in_child(c.name, c.fn, 256 + c.vector, c.vector_qemu >= 0 ? 256 + c.vector_qemu : -1);
    }
    bad += !normal_child_exits();   // the kernel and this process run on
    long after = settled_free_pages();
    printf("faults: free pages before %ld after %ld: %s\n", before, after, before == after ? "ok" : "FAILED");
    bad += before != after;
    if (bad) {
        printf("faults: FAIL (%d)\n", bad);
        return 1;
    }
    printf("faults: PASS: %zu faulting children killed, the kernel runs on\n",
           sizeof(cases) / sizeof(cases[0]));
    return 0;
}
