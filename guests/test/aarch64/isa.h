/* AArch64's primitives for the test guest (common.h): EL1 with GICv3's
 * system register interface; HVC carries Cairn's hypercalls and the VMM's
 * PSCI calls alike. */
#pragma once

#define SYSREG_R(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define SYSREG_W(r, v) __asm__ volatile("msr " #r ", %0; isb" : : "r"((uint64_t)(v)) : "memory")
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_SGI1R_EL1 S3_0_C12_C11_5

static inline void irqs_on(void)
{
	SYSREG_W(ICC_SRE_EL1, 7);
	SYSREG_W(ICC_PMR_EL1, 0xff);
	SYSREG_W(ICC_IGRPEN1_EL1, 1);
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void irq_mask(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void irq_unmask(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
/* WFI wakes for a pending interrupt whether PSTATE.I masks it or not. */
static inline void irq_sleep(void) { __asm__ volatile("wfi; msr daifclr, #2" ::: "memory"); }
#define RET_INSN 0xd65f03c0u /* ret */
static inline void halt(void) { __asm__ volatile("wfi"); }

/* x0-x3 in, x0 back: the VMM's PSCI calls (and the hostile guest's). */
static inline uint64_t hvc(uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3)
{
	register uint64_t r0 __asm__("x0") = x0, r1 __asm__("x1") = x1;
	register uint64_t r2 __asm__("x2") = x2, r3 __asm__("x3") = x3;
	__asm__ volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) : : "memory");
	return r0;
}

/* x0 function and error, x1 capability, x2 info, x3.. the words. */
static inline void hypercall(struct hc *h)
{
	register uint64_t x0 __asm__("x0") = h->fn, x1 __asm__("x1") = h->cap;
	register uint64_t x2 __asm__("x2") = h->info, x3 __asm__("x3") = h->w0;
	register uint64_t x4 __asm__("x4") = h->w1;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4)
			 : : "x5", "x6", "x7", "memory");
	h->fn = x0, h->info = x2, h->w0 = x3, h->w1 = x4;
}

static inline uint64_t vmm_version(void) { return hvc(PSCI_VERSION, 0, 0, 0); }
