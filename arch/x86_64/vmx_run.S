/* x86_vmx_run(regs, launched): into the guest and back (vmx.c).
 *
 * The VMCS switches rsp, rip and rflags (vmx.c copies them); the other
 * general registers are loaded here from the thread's struct arch_regs
 * (by ABI role, arch_regs.h: x[n] at 8 + 8n) and stored back after the
 * exit, which comes to x86_vmx_exit_stub on the stack this call leaves
 * (HOST_RSP: regs on top).  If VMLAUNCH or VMRESUME fails instead (the
 * VMCS's controls or host state), it falls through with the host's
 * registers but the general ones, to x86_vmx_refused.  The exit is
 * handled on this CPU's empty kernel stack, as a trap from ring 3 is;
 * interrupts stay masked (an exit leaves IF clear). */
#define PCPU_CPU 0
#define PCPU_USTATE 24
#include "arch/x86_64/guest_regs.h"
#define HOST_RSP 0x6c14

	.text
	.globl	x86_vmx_run
x86_vmx_run:
	pushq	%rdi
	movl	$HOST_RSP, %eax
	vmwrite	%rsp, %rax
	testb	%sil, %sil               /* flags kept through the loads */
	movq	X(8)(%rdi), %rax
	guest_regs_load
	jz	1f
	vmresume
	jmp	2f
1:	vmlaunch
2:	popq	%rdi                    /* failed: regs */
	incq	%gs:PCPU_USTATE         /* even: not in the guest */
	movq	%gs:PCPU_CPU, %rax
	movq	(%rax), %rsp
	xorl	%ebp, %ebp
	movl	$1, %esi                /* by the CPU: VM-instruction error */
	jmp	x86_vmx_refused

	.globl	x86_vmx_exit_stub
x86_vmx_exit_stub:
	pushq	%rdi
	movq	8(%rsp), %rdi
	movq	%rax, X(8)(%rdi)        /* VMX keeps no guest rax: stored here */
	guest_regs_store
	incq	%gs:PCPU_USTATE         /* even: out of the guest (uspace.c) */
	movq	%gs:PCPU_CPU, %rax
	movq	(%rax), %rsp            /* its stack_top */
	xorl	%ebp, %ebp
	jmp	x86_vmx_exit
