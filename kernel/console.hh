// kernel/console.hh: the serial console (console.cc).
#pragma once
#include <stddef.h>
void console_init();
void console_enable_input();
void console_panic_mode();
void console_interrupt();
[[nodiscard]] size_t console_try_read(char* buf, size_t n);
// console_input_arrived(): wakes readers blocked in sys_read (proc side).
void console_input_arrived();
