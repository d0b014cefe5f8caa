// kernel/console.cc: the serial console (COM1), both ways.
//
// Output is polled, one whole line at a time under console_lock, so lines
// from different CPUs never interleave; every log line names its CPU.
// Input arrives by interrupt (IRQ 4 through the I/O APIC) into a ring
// buffer that sys_read drains (console_read, proc side).
#include "kernel.hh"
#include "console.hh"
#include "cpu.hh"
#include "apic.hh"
#include "printf.hh"
#include "waitqueue.hh"
#include <stdarg.h>

namespace {
constexpr uint16_t COM1 = 0x3f8;
spinlock console_lock{"console_lock"};
// The CPU that owns the console after a panic (console_panic_mode), -1 if
// none.
std::atomic<int> panic_owner{-1};

void serial_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) cpu_relax();
    outb(COM1, uint8_t(c));
}
void serial_write(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') serial_putc('\r');
        serial_putc(s[i]);
    }
}

// Console input ring buffer, filled by the interrupt handler.
constexpr size_t INBUF = 1024;
char inbuf[INBUF];
size_t in_head, in_tail;     // guarded by console_lock
wait_queue input_wq;         // readers waiting for input (console_read)
}

void console_init() {
    // Turning the FIFO on clears it, so save a byte already received (input
    // typed while the machine booted).
    while ((inb(COM1 + 5) & 1) && in_head < INBUF) inbuf[in_head++] = char(inb(COM1));
    outb(COM1 + 1, 0x00);    // no interrupts yet
    outb(COM1 + 3, 0x80);    // DLAB
    outb(COM1 + 0, 0x01);    // 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);    // 8N1
    outb(COM1 + 2, 0x01);    // FIFO on, interrupt per byte; keep input that
                             // arrived while booting (QEMU buffers it)
    outb(COM1 + 4, 0x0b);    // DTR, RTS, OUT2 (routes the IRQ)
}

void console_enable_input() {
    outb(COM1 + 1, 0x01);    // interrupt when data arrives
}

// console_panic_mode(): from now on, write without taking the lock (the
// lock may be held by a CPU that panic stopped). A CPU in the middle of a
// line holds the lock with interrupts off, so the stop IPI reaches it only
// after the line; under a loaded host that can take longer than panic's
// wait, and the two outputs mixed ("startin\ngP ktest\nANIC:"). So first
// wait to take the lock (and keep it: the panicking CPU owns the console
// from now on). A holder finishes its line unless its vCPU is descheduled
// by the host, which can last many host time slices (200 ms was seen to be
// too short); only a CPU stuck for good holds it 2 s, and then the panic
// writes anyway. A CPU that the stop IPI has not reached yet (its
// interrupts were off: the boot CPU before its idle loop, say) and that
// comes to write now must not write over the panic's lines ("assertion
// 'x == 4[cpu0] 2 CPUs online\n2' failed"): it stops there instead, its
// line unwritten, as the IPI would have stopped it.
void console_panic_mode() {
    uint64_t give_up = clock_ns() + 2000000000;
    while (!console_lock.try_lock() && clock_ns() < give_up) cpu_relax();
    panic_owner.store(this_cpu_unchecked()->index, std::memory_order_release);
}

bool console_panicking() { return panic_owner.load(std::memory_order_acquire) >= 0; }

void console_write(const char* s, size_t n) {
    if (int owner = panic_owner.load(std::memory_order_acquire); owner >= 0) {
        if (owner != this_cpu_unchecked()->index) for (;;) asm volatile("cli; hlt");
        serial_write(s, n);
        return;
    }
    spinlock_guard g(console_lock);
    serial_write(s, n);
}

void console_printf(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_write(buf, min<size_t>(n, sizeof(buf) - 1));
}

void log_printf(const char* fmt, ...) {
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "[cpu%d] ", this_cpu_unchecked()->index);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    va_end(ap);
    n = min<int>(n, sizeof(buf) - 2);
    if (n == 0 || buf[n - 1] != '\n') buf[n++] = '\n';
    console_write(buf, n);
}

// console_interrupt(): IRQ 4. Move received bytes into the ring buffer
// and wake any reader.
void console_interrupt() {
    bool got = false;
    {
        spinlock_guard g(console_lock);
        while (inb(COM1 + 5) & 1) {
            char c = char(inb(COM1));
            if (c == '\r') c = '\n';
            if (in_head - in_tail < INBUF) inbuf[in_head++ % INBUF] = c;
            got = true;
        }
    }
    if (got) input_wq.wake_all();
}

// try_read(buf, n): take up to n buffered bytes; 0 if none.
static size_t try_read(char* buf, size_t n) {
    spinlock_guard g(console_lock);
    size_t k = 0;
    while (k < n && in_tail != in_head) buf[k++] = inbuf[in_tail++ % INBUF];
    return k;
}

size_t console_read(char* buf, size_t n) {
    size_t got = 0;
    wait_until(input_wq, [&] { return (got = try_read(buf, n)) > 0; });
    return got;
}
