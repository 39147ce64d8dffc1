/* x86_64's primitives for the test guest (common.h): long mode (start.S),
 * no interrupt controller (an injected interrupt arrives as its vector,
 * the VMM's virtual interrupt number), VMMCALL for Cairn's hypercalls and
 * the VMM's calls alike. */
#pragma once

static inline void irqs_on(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_mask(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_unmask(void) { __asm__ volatile("sti" ::: "memory"); }
/* STI's shadow covers the HLT: no interrupt slips in between. */
static inline void irq_sleep(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
#define RET_INSN 0xc3u /* ret, then zeros */
static inline void halt(void) { __asm__ volatile("cli; hlt"); }

/* rax, rbx, rcx, rdx: a VMMCALL outside Cairn's range reaches the VMM with
 * them; rax comes back. */
static inline uint64_t vmmcall(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	__asm__ volatile("vmmcall" : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory");
	return a;
}

/* rax function and error, rdi capability, rsi info, rdx r10 r8 r9 r12
 * the words. */
static inline void hypercall(struct hc *h)
{
	register uint64_t r10 __asm__("r10") = h->w1;
	uint64_t rax = h->fn, rdi = h->cap, rsi = h->info, rdx = h->w0;
	__asm__ volatile("vmmcall" : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10)
			 : : "r8", "r9", "r12", "memory");
	h->fn = rax, h->info = rsi, h->w0 = rdx, h->w1 = r10;
}

static inline uint64_t vmm_version(void) { return vmmcall(PSCI_VERSION, 0, 0, 0); }
