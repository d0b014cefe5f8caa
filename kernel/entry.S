// kernel/entry.S: every way into and out of the kernel.
//
//  - trap_entry_N (N = 0..255): interrupt and exception vectors. They build
//    a `struct regstate` (x86.hh) on the kernel stack and call
//    trap_dispatch(regstate*). Entries from user mode swap %gs so that
//    %gs:0 is the CPU's `cpu` object; kernel %gs is never visible to user.
//  - syscall_entry: the `syscall` instruction lands here (MSR_LSTAR); it
//    switches to the task's kernel stack, builds the same regstate, calls
//    syscall_dispatch(regstate*) and returns with `sysretq`.
//  - switch_stacks: the heart of a context switch (used by cpu::schedule).

#define SEG_UDATA (0x18 | 3)
#define SEG_UCODE (0x20 | 3)

// Unwind information for debuggers (no code). The compiler describes every
// C++ function's frame in .debug_frame; these directives describe the two
// entry paths the same way, so that GDB's `bt` walks from a system call or
// an interrupt handler into the code that was interrupted: the user
// program (with its symbols loaded: make gdb) or the interrupted kernel
// function, whose registers are the ones saved in the regstate. A system
// call is like a call (the saved rip follows the `syscall`); an interrupt
// is not (it saved the exact rip), so GDB treats it like a signal and
// prints "<signal handler called>" for that frame.
        .cfi_sections .debug_frame

// REGSTATE_CFI: from here on, %rsp points at a regstate (a push after it
// adjusts the offset with .cfi_adjust_cfa_offset). The canonical frame
// address is taken as the regstate's end; each rule says where a register
// of the interrupted code is saved (x86.hh's regstate, 8 bytes a field:
// rax rcx rdx rbx rbp rsi rdi r8-r15 intno errcode rip cs rflags rsp ss).
.macro REGSTATE_CFI
        .cfi_def_cfa rsp, 22*8
        .cfi_offset rax, 0*8 - 22*8
        .cfi_offset rcx, 1*8 - 22*8
        .cfi_offset rdx, 2*8 - 22*8
        .cfi_offset rbx, 3*8 - 22*8
        .cfi_offset rbp, 4*8 - 22*8
        .cfi_offset rsi, 5*8 - 22*8
        .cfi_offset rdi, 6*8 - 22*8
        .cfi_offset r8, 7*8 - 22*8
        .cfi_offset r9, 8*8 - 22*8
        .cfi_offset r10, 9*8 - 22*8
        .cfi_offset r11, 10*8 - 22*8
        .cfi_offset r12, 11*8 - 22*8
        .cfi_offset r13, 12*8 - 22*8
        .cfi_offset r14, 13*8 - 22*8
        .cfi_offset r15, 14*8 - 22*8
        .cfi_offset rip, 17*8 - 22*8
        .cfi_offset rsp, 20*8 - 22*8
.endm

.macro PUSH_GPRS
        pushq %r15
        pushq %r14
        pushq %r13
        pushq %r12
        pushq %r11
        pushq %r10
        pushq %r9
        pushq %r8
        pushq %rdi
        pushq %rsi
        pushq %rbp
        pushq %rbx
        pushq %rdx
        pushq %rcx
        pushq %rax
.endm
.macro POP_GPRS
        popq %rax
        popq %rcx
        popq %rdx
        popq %rbx
        popq %rbp
        popq %rsi
        popq %rdi
        popq %r8
        popq %r9
        popq %r10
        popq %r11
        popq %r12
        popq %r13
        popq %r14
        popq %r15
.endm

// Vectors that push an error code themselves: 8, 10-14, 17, 21, 29, 30.
.macro VECTOR n
        .align 16
trap_entry_\n:
.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
.else
        pushq $0
.endif
        pushq $\n
        jmp trap_common
.endm

        .text
        .globl trap_entry_table_start
        .align 16
trap_entry_table_start:
.altmacro
.set i, 0
.rept 256
        VECTOR %i
.set i, i + 1
.endr

trap_common:
        .cfi_startproc simple
        .cfi_signal_frame               // the saved rip is exact, not a return address
        .cfi_def_cfa rsp, 0             // no regstate yet: an outermost frame
        .cfi_undefined rip
        // The compiler assumes DF is clear (string instructions go up).
        // An interrupt does not clear it (`syscall` does, via SFMASK), so
        // a user program that set DF made the kernel's memcpy and memset
        // (rep movsq/stosq) run backwards over the memory below.
        cld
        PUSH_GPRS
        REGSTATE_CFI
        testb $3, 18*8(%rsp)            // regstate.reg_cs: from user mode?
        jz 1f
        swapgs
1:      movq %rsp, %rdi
        // A frame record (saved rbp, return address) made of the
        // interrupted rbp and rip, so backtraces walk through interrupts.
        pushq 17*8(%rsp)                // regstate.reg_rip
        .cfi_adjust_cfa_offset 8
        pushq 4*8+8(%rsp)               // regstate.reg_rbp
        .cfi_adjust_cfa_offset 8
        movq %rsp, %rbp
        call trap_dispatch
        addq $16, %rsp
        .cfi_adjust_cfa_offset -16
        .globl trap_return
trap_return:                            // %rsp points at a regstate
        testb $3, 18*8(%rsp)
        jz 2f
        swapgs
2:      POP_GPRS
        .cfi_undefined rip
        addq $16, %rsp                  // intno, errcode
        iretq
        .cfi_endproc

// syscall: rcx = user rip, r11 = user rflags, rax = number,
// arguments in rdi, rsi, rdx, r10, r8, r9. Interrupts are off (SFMASK).
        .globl syscall_entry
        .align 16
syscall_entry:
        .cfi_startproc simple
        .cfi_def_cfa rsp, 0             // no regstate yet: an outermost frame
        .cfi_undefined rip
        swapgs
        movq %rsp, %gs:16               // cpu::user_rsp
        movq %gs:8, %rsp                // cpu::kernel_rsp
        pushq $SEG_UDATA                // ss
        pushq %gs:16                    // rsp
        pushq %r11                      // rflags
        pushq $SEG_UCODE                // cs
        pushq %rcx                      // rip
        pushq $0                        // errcode
        pushq $-1                       // intno: -1 marks a system call
        PUSH_GPRS
        REGSTATE_CFI
        sti
        movq %rsp, %rdi
        xorl %ebp, %ebp
        call syscall_dispatch
        cli
        movq %rax, (%rsp)               // regstate.reg_rax = result
        .globl syscall_return
syscall_return:
        POP_GPRS
        .cfi_undefined rip
        addq $16, %rsp
        popq %rcx                       // rip
        addq $8, %rsp                   // cs
        popq %r11                       // rflags
        popq %rsp                       // user rsp
        swapgs
        sysretq
        .cfi_endproc

// proc* switch_stacks(proc* prev, uintptr_t* save_rsp, uintptr_t new_rsp):
// save callee-saved registers on this stack, store %rsp in *save_rsp,
// continue on new_rsp's stack. Returns `prev` in the new context.
        .globl switch_stacks
switch_stacks:
        pushq %rbp
        pushq %rbx
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, (%rsi)
        movq %rdx, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        movq %rdi, %rax
        ret

// A new task's first switch_stacks "returns" here, with %rax = prev and
// %r12 = the function to run, %r13 its argument (see proc.cc).
        .globl task_first_entry
task_first_entry:
        movq %rax, %rdi
        call schedule_tail              // finish the switch (sched.cc)
        sti                             // schedule() ran with interrupts off
        movq %r13, %rdi
        xorl %ebp, %ebp
        call *%r12                      // kernel tasks: never returns
        ud2

// User tasks start by "returning from an interrupt" into the regstate at
// the top of their kernel stack (r12 = user_task_start).
        .globl user_task_start
user_task_start:
        movq %rdi, %rsp
        cli
        jmp trap_return

        .section .note.GNU-stack, "", @progbits
