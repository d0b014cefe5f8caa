// kernel/multiboot.cc: what the boot loader (QEMU's -kernel, multiboot 1)
// tells the kernel: the command line, the modules it loaded (the first is
// build/kernel.sym, the symbols for backtraces) and the memory map.
#include "kernel.hh"
#include "kalloc.hh"

extern const char* ksyms_text;
extern size_t ksyms_len;
extern "C" char _end[];

namespace {
struct __attribute__((packed)) multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
struct __attribute__((packed)) multiboot_mmap { uint32_t size; uint64_t addr, len; uint32_t type; };
struct __attribute__((packed)) multiboot_mod { uint32_t start, end, string, reserved; };

constexpr uint32_t MB_CMDLINE = 1 << 2, MB_MODS = 1 << 3, MB_MMAP = 1 << 6;
char cmdline_copy[512];
}

void multiboot_read_options(uint32_t mbi_pa) {
    auto* mbi = pa2kva<multiboot_info>(mbi_pa);
    if (!(mbi->flags & MB_CMDLINE)) return;
    strncpy_safe(cmdline_copy, pa2kva<const char>(mbi->cmdline), sizeof(cmdline_copy));
    parse_boot_options(cmdline_copy);
}

void multiboot_read_memory(uint32_t mbi_pa) {
    auto* mbi = pa2kva<multiboot_info>(mbi_pa);
    // Free memory starts above everything the boot loader placed: the
    // kernel, the modules and the multiboot information itself.
    uintptr_t reserved = kva2pa(_end);
    if (mbi->flags & MB_MODS) {
        auto* mods = pa2kva<multiboot_mod>(mbi->mods_addr);
        for (uint32_t i = 0; i < mbi->mods_count; ++i) {
            reserved = max<uintptr_t>(reserved, mods[i].end);
            if (i == 0) {
                ksyms_text = pa2kva<const char>(mods[0].start);
                ksyms_len = mods[0].end - mods[0].start;
            }
        }
    }
    reserved = max<uintptr_t>(reserved, mbi_pa + 4096);
    assert(mbi->flags & MB_MMAP);
    for (uint32_t off = 0; off < mbi->mmap_length;) {
        auto* m = pa2kva<multiboot_mmap>(mbi->mmap_addr + off);
        if (m->type == 1 && m->addr + m->len > reserved) {
            uintptr_t start = max<uintptr_t>(m->addr, reserved);
            uintptr_t end = min<uintptr_t>(m->addr + m->len, 0x100000000UL);   // direct map: 4 GiB
            if (start < end) pmem_add_range(start, end);
        }
        off += m->size + 4;
    }
    pmem_init_done();
}
