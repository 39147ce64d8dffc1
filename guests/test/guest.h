/* The test guest's contract with its VMM (servers/root/tests_vm.c): a
 * bare-metal EL1 program, one test per run chosen by x0 at entry, talking
 * to a test device the VMM emulates.  Shared by both sides. */
#pragma once

#define GUEST_RAM_IPA 0x40000000ull
#define GUEST_RAM_SIZE 0x20000ull        /* 128 KiB: image, data, page tables, stack */
#define TDEV_IPA 0x0a000000ull           /* the test device */
#define TDEV_DATA 0x00   /* reads: TDEV_PATTERN (cut to size); writes: logged */
#define TDEV_RESULT 0x08 /* the test's result: TEST_PASS or where it failed */
#define TDEV_SYNC 0x10   /* "ready": the VMM acts, then answers (value: step) */
#define TDEV_DOORBELL 0x20 /* writes: a doorbell when the VMM bound one, else logged */
#define TDEV_CLAIM 0x28  /* reads: riscv64's external interrupt claim (VREG_RV_CLAIM) */
#define TDEV_STATUS 0x30 /* 32-bit status (acknowledge at +4): the kernel's when bound */
#define TDEV_PATTERN 0x8182838485868788ull
#define OUTSIDE_RAM_IPA 0x80000000ull    /* nothing is mapped there */
#define EXEC_IPA 0x50000000ull           /* GT_EXEC's page: at first without the execute right */
#define INT3_STACK_IPA 0x50001000ull    /* GT_X86_INT3's stack: at first without the write right */
#define VFUZZ_IPA 0x0a001000ull          /* a virtio-mmio block device (GT_VFUZZ) */
#define VNETFUZZ_IPA VFUZZ_IPA           /* two virtio-mmio net devices (GT_VNETFUZZ) */
#define VNETFUZZ_STRIDE 0x200ull
#define TEST_PASS 1
#define PSCI_VERSION 0x84000000ull
#define VMM_PSCI_VERSION 0x10001ull      /* what the VMM answers: 1.1 */
#define VMM_SBI_VERSION 3                /* riscv64: vm_sbi's (VM_SBI_VERSION), 0.3 */
#define HC_EP_SLOT 1     /* the hypercall endpoint in the VCPU thread's CNode */
#define HC_NTFN_SLOT 2

/* HC_YIELD (guest.c), for the ISA-neutral tests. */
void guest_yield(void);

enum guest_test {
	GT_MMIO = 1,      /* reads and writes of every size and sign */
	GT_HVC_SMC,       /* HVC/SMC exits; an unknown Cairn hypercall */
	GT_TIMER,         /* virtual timer interrupts, WFI between them */
	GT_INJECT,        /* more injected interrupts than list registers */
	GT_DISABLED,      /* injected while disabled: held until enabled */
	GT_ABORT,         /* an IPA outside RAM: the VMM injects an abort */
	GT_NO_SYNDROME,   /* ldp from the device: emulated from the instruction */
	GT_SYSREG,        /* ICC_SGI1R_EL1 write reaches the VMM */
	GT_HYPERCALL,     /* HC_CALL to a native server and HC_SIGNAL */
	GT_WFI_WAKE,      /* WFI with no timer: woken by an injection */
	GT_HOSTILE,       /* random exits forever (x1: seed) */
	GT_BENCH,         /* HVC / MMIO / hypercall loops for make bench */
	GT_SPIN,          /* timer ticks while the VMM moves it between CPUs */
	GT_ISOLATION,     /* writes x1 into its RAM, reads beyond its RAM */
	GT_PEEK,          /* reads the word at x1 and writes it to the device */
	GT_SMP,           /* PSCI CPU_ON of a second VCPU, SGIs both ways */
	GT_PASSTHROUGH,   /* drives a PL031 at x1 itself; its alarm is interrupt x2 */
	GT_PARKED,        /* EL1 state read and written by the VMM at x1 exits (0: 3) */
	GT_DOORBELL,      /* x1 doorbell writes, a sync, x1 more, a sync */
	GT_VFUZZ,         /* x1 virtio-blk requests at VFUZZ_IPA, half of them lies (vfuzz.c) */
	GT_VNETFUZZ,      /* x1 rounds on two switch ports, half of them lies (vnetfuzz.c) */
	GT_X86_PORTS,     /* x86_64: I/O ports, CPUID and MSRs the VMM answers */
	GT_SBI_RFENCE_HSM, /* riscv64: SBI RFENCE masks; HSM hart_stop, then start again */
	GT_EXEC,          /* writes a return at EXEC_IPA, calls it, syncs */
	GT_X86_PF,        /* x86_64: page faults its own tables cause, CR2 and error codes */
	GT_STATUS,        /* reads and acknowledges TDEV_STATUS, bound and then not */
	GT_X86_INT3,      /* x86_64: an INT3 whose frame goes to INT3_STACK_IPA, at first read-only */
};
#define PARKED_MINE 0x7e1d0000c0ffeeull  /* what the guest puts in TPIDR_EL1 */
#define PARKED_VMMS 0x5eed0000beefull    /* what the VMM puts there */
enum guest_bench { BENCH_HVC, BENCH_MMIO, BENCH_HYPERCALL, BENCH_INJECT, BENCH_YIELD,
		   BENCH_VIRQ };
#define ISOLATION_SLOT (GUEST_RAM_IPA + GUEST_RAM_SIZE - 8) /* its last word */
#define PSCI_CPU_ON 0xc4000003ull
#define SMP_SGI_TO_0 5
#define SMP_SGI_TO_1 6
#define SMP_SGI_DONE 7
#define GT_TIMER_TICKS 20
#define GT_INJECT_FIRST 40 /* SPIs 40..47 */
#define GT_INJECT_COUNT 8
