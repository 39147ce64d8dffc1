/* riscv64's primitives for the test guest (common.h): VS-mode.  An ecall
 * is a Cairn hypercall (a7 in HC_BASE's range) or an SBI call the VMM or
 * the kernel serves (the extension in a7, the function in a6). */
#pragma once

#define CSR_R(r) ({ uint64_t v_; __asm__ volatile("csrr %0, " #r : "=r"(v_)); v_; })
#define CSR_W(r, v) __asm__ volatile("csrw " #r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define SBI_BASE 0x10
#define IRQ_SOFT 1
#define IRQ_TIMER 5
#define IRQ_EXT 9

struct sbiret { int64_t error; uint64_t value; };

static inline struct sbiret sbi(uint64_t eid, uint64_t fid, uint64_t a0, uint64_t a1)
{
	register uint64_t r0 __asm__("a0") = a0, r1 __asm__("a1") = a1;
	register uint64_t r6 __asm__("a6") = fid, r7 __asm__("a7") = eid;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (int64_t)r0, r1 };
}

static inline void irqs_on(void)
{
	__asm__ volatile("csrs sie, %0" : : "r"(1ull << IRQ_SOFT | 1ull << IRQ_TIMER | 1ull << IRQ_EXT));
	__asm__ volatile("csrs sstatus, 2" ::: "memory");
}

static inline void irq_mask(void) { __asm__ volatile("csrc sstatus, 2" ::: "memory"); }
static inline void irq_unmask(void) { __asm__ volatile("csrs sstatus, 2" ::: "memory"); }
/* WFI wakes for an enabled pending interrupt whatever sstatus.SIE says. */
static inline void irq_sleep(void) { __asm__ volatile("wfi; csrs sstatus, 2" ::: "memory"); }
#define RET_INSN 0x00008067u /* jalr x0, 0(ra) */
static inline void halt(void) { __asm__ volatile("wfi"); }

/* a7 the function, a0 capability and error, a1 info, a2.. the words. */
static inline void hypercall(struct hc *h)
{
	register uint64_t a7 __asm__("a7") = h->fn, a0 __asm__("a0") = h->cap;
	register uint64_t a1 __asm__("a1") = h->info, a2 __asm__("a2") = h->w0;
	register uint64_t a3 __asm__("a3") = h->w1;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3) : "r"(a7)
			 : "a4", "a5", "a6", "memory");
	h->fn = a0, h->info = a1, h->w0 = a2, h->w1 = a3;
}

/* SBI's spec version, from the VMM's SBI (vm_sbi). */
static inline uint64_t vmm_version(void) { return sbi(SBI_BASE, 0, 0, 0).value; }
