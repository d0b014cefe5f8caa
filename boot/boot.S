// boot/boot.S: the first code Grace runs, on the bootstrap CPU.
//
// QEMU's multiboot loader (`qemu-system-x86_64 -kernel build/kernel.bin`)
// finds the header below, copies the flat image to physical 1 MiB, zeroes
// the .bss and jumps to _start32 in 32-bit protected mode with paging off,
// %eax = 0x2BADB002 and %ebx = the physical address of the multiboot info.
//
// _start32 builds the boot page tables, turns on long mode and jumps to the
// higher-half address of start64, which calls kernel_main(mbi).
//
// Boot page tables (2 MiB pages, 4 GiB):
//   PML4[0]   -> identity map of 0..4 GiB (needed while switching modes, and
//                by the AP trampoline; removed once every CPU is up)
//   PML4[256] -> the same: the direct map at PHYSBASE = 0xffff800000000000
//   PML4[511] -> PDPT[510] -> the first 1 GiB at KERNBASE = 0xffffffff80000000
// The top GiB (3..4 GiB: local APIC, I/O APIC, HPET) is mapped uncached.

#define KERNBASE 0xffffffff80000000
#define PHYS(x) ((x) - KERNBASE)

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010003     // page-align modules, memory info, a.out kludge

        .section .multiboot, "a"
        .align 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long PHYS(mb_header)   // header_addr
        .long PHYS(_kernel_start) // load_addr
        .long 0                 // load_end_addr: the whole file
        .long PHYS(_end)        // bss_end_addr
        .long PHYS(_start32)    // entry_addr

        .section .text.boot, "ax"
        .code32
        .globl _start32
_start32:
        cli
        cld
        movl $PHYS(boot_stack_top), %esp
        movl %ebx, %edi                 // keep the multiboot info pointer

        // Fill the four page directories: 2048 entries of 2 MiB each.
        movl $PHYS(boot_pd), %edx
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax                 // present, writable, 2 MiB page
        cmpl $1536, %ecx
        jb 2f
        orl $0x18, %eax                 // 3..4 GiB: cache disabled (MMIO)
2:      movl %eax, (%edx,%ecx,8)
        movl $0, 4(%edx,%ecx,8)
        incl %ecx
        cmpl $2048, %ecx
        jb 1b

        // PDPT for the low/direct map: 4 entries -> the 4 page directories.
        movl $PHYS(boot_pdpt_low), %edx
        movl $PHYS(boot_pd) + 3, %eax
        movl %eax, 0(%edx)
        addl $4096, %eax
        movl %eax, 8(%edx)
        addl $4096, %eax
        movl %eax, 16(%edx)
        addl $4096, %eax
        movl %eax, 24(%edx)
        // PDPT for the kernel: entry 510 -> first page directory.
        movl $PHYS(boot_pdpt_high), %edx
        movl $PHYS(boot_pd) + 3, %eax
        movl %eax, 510*8(%edx)
        // PML4.
        movl $PHYS(boot_pml4), %edx
        movl $PHYS(boot_pdpt_low) + 3, %eax
        movl %eax, 0(%edx)
        movl %eax, 256*8(%edx)
        movl $PHYS(boot_pdpt_high) + 3, %eax
        movl %eax, 511*8(%edx)

        // Long mode: PAE + PGE, CR3, EFER.LME|NXE|SCE, then paging.
        movl %cr4, %eax
        orl $0xa0, %eax
        movl %eax, %cr4
        movl $PHYS(boot_pml4), %eax
        movl %eax, %cr3
        movl $0xc0000080, %ecx
        rdmsr
        orl $0x901, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80010001, %eax           // PG | WP | PE
        movl %eax, %cr0

        lgdt PHYS(boot_gdt_desc)
        ljmp $0x08, $PHYS(start64_low)

        .code64
start64_low:
        movabsq $start64, %rax
        jmp *%rax
start64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        movabsq $boot_stack_top, %rsp
        xorl %ebp, %ebp
        movl %edi, %edi                 // zero-extend the multiboot pointer
        call kernel_main
3:      cli
        hlt
        jmp 3b

        .section .rodata
        .align 16
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff        // 0x08: 64-bit kernel code
        .quad 0x00cf92000000ffff        // 0x10: kernel data
boot_gdt_end:
boot_gdt_desc:
        .word boot_gdt_end - boot_gdt - 1
        .long PHYS(boot_gdt)

        .section .bss
        .align 4096
        .globl boot_pml4
boot_pml4:      .space 4096
boot_pdpt_low:  .space 4096
boot_pdpt_high: .space 4096
boot_pd:        .space 4 * 4096
        .globl boot_stack_top
boot_stack:     .space 16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
