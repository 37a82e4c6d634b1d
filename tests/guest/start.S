/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Multiboot (v1) entry of the qsnapfix test guest.
 *
 * QEMU's -kernel loader enters here in 32-bit protected mode with paging and
 * interrupts off, EAX = the multiboot magic and EBX = the info block. The
 * spec leaves GDTR undefined, so we load our own flat GDT before touching
 * segment registers: the IDT gates built in guest.c name selector 0x08.
 */

/* Name the file symbol ourselves: by default it is the preprocessor's
 * temporary file, and guest.elf would differ from one build to the next
 * (the fixture cache is keyed by its hash). */
	.file "start.S"

#define MULTIBOOT_MAGIC 0x1BADB002
/* bit 0: page-align modules, bit 1: give us the memory map. ELF loading
 * (no bit 16) lets QEMU take addresses from the program headers. */
#define MULTIBOOT_FLAGS 0x00000003

#define CODE_SELECTOR 0x08
#define DATA_SELECTOR 0x10

	.section .multiboot, "a"
	.balign 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff /* 0x10: data, base 0, 4 GiB */
gdt_end:
gdt_pointer:
	.word gdt_end - gdt - 1
	.long gdt

	.text
	.globl _start
_start:
	cli
	lgdt gdt_pointer
	ljmp $CODE_SELECTOR, $reload_segments
reload_segments:
	movw $DATA_SELECTOR, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call guest_main
halt_forever:
	cli
	hlt
	jmp halt_forever

/* PIT interrupt (IRQ 0 remapped to vector 0x20): one per PIT period. It
 * counts the period (guest.c adds the offset inside the period from the
 * counter) and ends the HLT of the main loop.
 *
 * It returns with a near "ret $8" (pop EIP, drop CS and EFLAGS) instead of
 * IRET: KVM's instruction emulator, which runs this unpaged guest on hosts
 * without hardware-assisted paging for it (nested "PVM" KVM), implements IRET
 * only in real mode and stops the VM with "emulation failure". Dropping the
 * saved EFLAGS is correct because interrupts are enabled only inside
 * "sti; hlt; cli" in guest.c: we return right after the HLT with IF clear,
 * exactly what the CLI there would leave. */
	.globl timer_interrupt_entry
timer_interrupt_entry:
	incl pit_periods
	pushl %eax
	movb $0x20, %al /* non-specific EOI to the master PIC */
	outb %al, $0x20
	popl %eax
	ret $8

/* Every other vector is a bug in this guest (or a broken restore): report
 * it on the serial port and stop, rather than run on with a corrupt state. */
	.globl unexpected_interrupt_entry
unexpected_interrupt_entry:
	call guest_unexpected_interrupt
	jmp halt_forever

	.section .bss
	.balign 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
