/*
 * guest/agent/start.S: the agent's entry point and its Mach traps.
 *
 * GNU Mach starts a bootstrap task with %esp at argc, then the argv
 * pointers, NULL, envp, NULL (GNUMACH.md). A trap is "movl $-N,%eax;
 * lcall $7,$0" with the arguments as 32-bit words above one return
 * address, which is exactly a cdecl call into the stubs below; the trap
 * numbers are GNU Mach's kern/syscall_sw.c.
 */
	.text
	.globl	_start
_start:
	movl	%esp, %eax
	andl	$-16, %esp
	subl	$12, %esp
	pushl	%eax
	call	agent_start
1:	hlt
	jmp	1b

/*
 * int probe_read(const volatile uint64_t *p, uint64_t *out): reads *P
 * into *OUT and returns 0, or returns 1 when the read takes a memory
 * error: the exception handler (fault.c) resumes a thread that faulted
 * between probe_read and probe_fault at probe_fault, a fixup in the way of
 * a kernel's exception table. Nothing is pushed, so %esp is as at entry.
 */
	.globl	probe_read, probe_fault
	.type	probe_read, @function
probe_read:
	movl	4(%esp), %ecx
	movl	(%ecx), %eax
	movl	4(%ecx), %edx
	movl	8(%esp), %ecx
	movl	%eax, (%ecx)
	movl	%edx, 4(%ecx)
	xorl	%eax, %eax
	ret
probe_fault:
	movl	$1, %eax
	ret

#define TRAP(name, num)		\
	.globl	name;		\
	.type	name, @function; \
name:				\
	movl	$num, %eax;	\
	lcall	$7, $0;		\
	ret

TRAP(mach_msg_trap, -25)
TRAP(mach_reply_port, -26)
TRAP(mach_thread_self, -27)
TRAP(mach_task_self, -28)
TRAP(swtch_pri, -59)
TRAP(thread_switch, -61)
TRAP(syscall_vm_map, -64)
TRAP(syscall_vm_allocate, -65)
TRAP(syscall_vm_deallocate, -66)
TRAP(syscall_mach_port_allocate, -72)
TRAP(syscall_mach_port_deallocate, -73)
TRAP(syscall_mach_port_insert_right, -74)

	.section .note.GNU-stack,"",@progbits
