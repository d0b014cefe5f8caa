// user/nullderef.cc: a fault in user code kills only that process.
//
// Children that commit one fault each: reading NULL, writing NULL,
// writing their own (read-only) text, reading a kernel address, `ud2`,
// dividing by zero, and executing a privileged instruction. The parent
// must see status 256 + the exception vector for each (270 for a page
// fault, 262 for an invalid opcode, 256 for a divide error, 269 for a
// general protection fault); the kernel logs one line per kill, naming the
// process, the fault and the address. Then the parent forks a normal
// child to show that fork, exit and wait still work.
#include "ulib.hh"

// A function in the program's text: its address is mapped read-only.
[[gnu::noinline, gnu::used]] void text_marker() { asm volatile(""); }

namespace {
volatile int zero = 0;

void read_null() { (void) *(volatile int*) nullptr; }
void write_null() { *(volatile int*) nullptr = 1; }
void write_text() { *(volatile char*) uintptr_t(&text_marker) = 0; }
void read_kernel() { (void) *(volatile long*) 0xffffffff80100000UL; }
void invalid_opcode() { asm volatile("ud2"); }
void divide_by_zero() { volatile int x = 42 / zero; (void) x; }
void privileged() { asm volatile("hlt"); }

struct fault_case {
    const char* name;
    void (*fn)();
    int status;
};
const fault_case cases[] = {
    {"read NULL", read_null, 256 + 14},
    {"write NULL", write_null, 256 + 14},
    {"write own text", write_text, 256 + 14},
    {"read kernel memory", read_kernel, 256 + 14},
    {"ud2", invalid_opcode, 256 + 6},
    {"divide by zero", divide_by_zero, 256 + 0},
    {"hlt in user mode", privileged, 256 + 13},
};
}

int main(int argc, char**) {
    if (argc > 1) {
        dprintf(2, "usage: nullderef\n");
        return 2;
    }
    int bad = 0;
    for (const fault_case& c : cases) bad += !fault_in_child(c.name, c.fn, c.status);
    bad += !normal_child_exits();   // the kernel and this process run on
    if (bad) {
        printf("nullderef: FAILED (%d)\n", bad);
        return 1;
    }
    printf("nullderef: PASS: every faulting child was killed, the kernel runs on\n");
    return 0;
}
