// user/crt0.S: a program's first instruction. The kernel enters here with
// argc in %rdi and argv in %rsi on a 16-byte-aligned-minus-8 stack.
        .text
        .globl _start
_start:
        xorl %ebp, %ebp
        andq $-16, %rsp
        call user_start
        ud2

        .section .note.GNU-stack, "", @progbits
