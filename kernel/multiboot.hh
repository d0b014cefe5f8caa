// kernel/multiboot.hh: what the boot loader tells the kernel (multiboot.cc).
#pragma once
#include <stdint.h>

// multiboot_read_options(mbi): parse the command line into kopts.
void multiboot_read_options(uint32_t mbi_pa);
// multiboot_read_memory(mbi): find the symbols module (backtraces) and give
// every free page of the memory map to the page allocator.
void multiboot_read_memory(uint32_t mbi_pa);
