// kernel/console.hh: the serial console (console.cc).
#pragma once
#include <stddef.h>
void console_init();
void console_enable_input();
void console_panic_mode();
// console_panicking(): a panic owns the console (console_panic_mode ran).
bool console_panicking();
void console_interrupt();
// console_read(buf, n): take up to n typed bytes (n > 0), sleeping until
// at least one is there; returns how many it took.
[[nodiscard]] size_t console_read(char* buf, size_t n);
