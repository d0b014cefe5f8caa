// boot/ap_trampoline.S: how the other CPUs (APs) reach long mode.
//
// An AP starts in 16-bit real mode at the page named by the startup IPI
// (smp.cc copies this blob to physical AP_TRAMPOLINE, 0x8000). It loads a small
// GDT, enters protected mode, turns on PAE paging with the kernel's page
// table, enters long mode and jumps to ap_entry(cpu*) in the higher half on
// the stack smp.cc prepared. smp.cc patches the three words at ap_tramp_data
// before each startup IPI.

#define AP_TRAMPOLINE 0x8000
#define REL(x) (AP_TRAMPOLINE + (x) - ap_tramp_start)

        .section .rodata
        .code16
        .globl ap_tramp_start, ap_tramp_end, ap_tramp_data
ap_tramp_start:
        cli
        cld
        xorw %ax, %ax
        movw %ax, %ds
        lgdtl REL(ap_gdt_desc)
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x08, $REL(ap_pm32)

        .code32
ap_pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr4, %eax
        orl $0xa0, %eax                 // PAE | PGE
        movl %eax, %cr4
        movl REL(ap_tramp_data), %eax   // page table root
        movl %eax, %cr3
        movl $0xc0000080, %ecx
        rdmsr
        orl $0x901, %eax                // LME | NXE | SCE
        wrmsr
        movl %cr0, %eax
        orl $0x80010000, %eax           // PG | WP
        movl %eax, %cr0
        ljmp $0x18, $REL(ap_lm64)

        .code64
ap_lm64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq REL(ap_tramp_data) + 8, %rsp   // stack top (higher half)
        movq REL(ap_tramp_data) + 16, %rdi  // this CPU's struct cpu
        xorl %ebp, %ebp
        movabsq $ap_entry, %rax
        jmp *%rax

        .align 16
ap_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        // 0x08: 32-bit code
        .quad 0x00cf92000000ffff        // 0x10: data
        .quad 0x00af9a000000ffff        // 0x18: 64-bit code
ap_gdt_desc:
        .word ap_gdt_desc - ap_gdt - 1
        .long REL(ap_gdt)
        .align 8
ap_tramp_data:
        .quad 0                         // cr3
        .quad 0                         // stack top
        .quad 0                         // struct cpu*
ap_tramp_end:

        .section .note.GNU-stack, "", @progbits
