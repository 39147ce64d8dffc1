/* What the test guest's files share (guest.h is its contract with the
 * VMM): how a check fails, what its trap handlers note, and the primitives
 * each ISA provides, so that a test written once (guest.c, timer.c) runs
 * on every ISA.  The primitives live in guests/test/<arch>/: isa.h (static
 * inline, declared here so that every ISA defines the same ones) and isa.c,
 * which also holds the tests that are one ISA's alone. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "cairn/vcpu.h"
#include "guests/test/guest.h"

#define REG(off) ((volatile uint64_t *)(TDEV_IPA + (off)))
/* A check's result is TEST_PASS or where it failed: its line, tagged so
 * that it is neither TEST_PASS nor 0. */
#define FAIL_IF(c) do { if (c) return __LINE__ * 16 + 2; } while (0)
/* A check made of checks: the first that fails is the result. */
#define CHECK(check) do { uint64_t r_ = (check); if (r_ != TEST_PASS) return r_; } while (0)

/* Noted by the trap handlers (isa.c) for the tests. */
extern volatile uint64_t irqs_seen;   /* bit (n - 16) per interrupt n (16..79) seen */
extern volatile uint64_t unexpected;  /* nonzero: a trap no test asked for */
extern volatile unsigned timer_ticks; /* the guest timer's interrupts (timer.c) */

static inline void sync_vm(uint64_t step) { *REG(TDEV_SYNC) = step; }

/* A trap no test asked for: noted (the result guest_main reports), written
 * to the device at once, and the end of the run (guest.c). */
_Noreturn void trap_unexpected(uint64_t noted, uint64_t code);

/* Sleep until every interrupt of mask has arrived; irqs_seen (guest.c). */
uint64_t wait_irqs(uint64_t mask);

/* A Cairn hypercall's registers, wherever the ISA keeps them: in, the
 * function, a capability slot, the message info (label << 16 | words)
 * and the first two words; out, the error in fn and the reply's info and
 * words. */
struct hc {
	uint64_t fn, cap, info, w0, w1;
};

/* --- isa.h ------------------------------------------------------------------ */

/* Interrupts: irqs_on() readies the interrupt controller, if any, and
 * unmasks; irq_mask() and irq_unmask() mask at the CPU; irq_sleep(),
 * called masked, sleeps until one is pending and takes it, unmasked. */
static inline void irqs_on(void);
static inline void irq_mask(void);
static inline void irq_unmask(void);
static inline void irq_sleep(void);
/* Stop, for good. */
static inline void halt(void);
static inline void hypercall(struct hc *h);
/* RET_INSN: the ISA's return from a call, as a 32-bit store writes it. */
/* The cheapest call the VMM answers (its PSCI or SBI version). */
static inline uint64_t vmm_version(void);

/* Sleep until cond holds, testing it masked so that an interrupt taken
 * between the test and the sleep cannot leave the CPU asleep for good. */
#define WAIT_UNTIL(cond)                                  \
	do {                                              \
		for (irq_mask(); !(cond); irq_mask())     \
			irq_sleep();                      \
		irq_unmask();                             \
	} while (0)

/* --- isa.c: checks and tests -------------------------------------------------- */

/* Every load and store form the ISA's kernel decodes (GT_MMIO). */
uint64_t t_mmio(void);
/* t_mmio's loads of each size in C, for an ISA whose compiler makes them
 * with forms its kernel decodes (guest.c). */
uint64_t check_plain_loads(void);
/* The ISA's calls the VMM answers, and their answers (GT_HVC_SMC). */
uint64_t check_vmm_calls(void);
/* An access the VMM refuses: TEST_PASS if the guest took the fault the
 * VMM injects for it (and went on past the access). */
uint64_t check_refused_read(uint64_t addr);
uint64_t check_refused_write(uint64_t addr);
/* A register of this VCPU's the VMM reads and rewrites while another
 * CPU may hold it (GT_PARKED). */
void parked_set(uint64_t v);
uint64_t parked_get(void);
/* Random exits of every kind the ISA has, forever (GT_HOSTILE). */
uint64_t t_hostile(uint64_t seed);
/* Timer ticks forever, each reported to the device (GT_SPIN): timer.c's,
 * or the ISA's own where its guest has no timer. */
uint64_t t_spin(void);
/* The tests not every ISA has: the ISA's, or 0xbad. */
uint64_t isa_test(uint64_t test, uint64_t a1, uint64_t a2);

/* --- A guest timer that interrupts: isa.c, for timer.c ------------------------ */

void timer_in(uint64_t ticks);
uint64_t ticks_per_ms(void);
/* After GT_TIMER's ticks: nothing but the timer interrupted. */
bool timer_alone(void);
uint64_t t_timer(void); /* timer.c */

/* --- The ISA-neutral virtio tests ----------------------------------------- */

uint64_t t_vfuzz(uint64_t n);    /* vfuzz.c */
uint64_t t_vnetfuzz(uint64_t n); /* vnetfuzz.c */

#include "isa.h" /* guests/test/<arch>/, the Makefile's -I */

/* A hypercall of at most one word; its error. */
static inline uint64_t hc(uint64_t fn, uint64_t cap, uint64_t info, uint64_t w0)
{
	struct hc h = { fn, cap, info, w0, 0 };
	hypercall(&h);
	return h.fn;
}

/* --- For the hostile guests (isa.c's t_hostile) ------------------------------ */

/* The next of their random numbers (xorshift64). */
static inline uint64_t hostile_next(uint64_t x)
{
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return x;
}

/* Where x sends an access: anywhere below RAM or beyond it. */
static inline uint64_t hostile_addr(uint64_t x)
{
	uint64_t addr = (x >> 8) & 0xfffffff8ull;
	if (addr >= GUEST_RAM_IPA && addr < GUEST_RAM_IPA + GUEST_RAM_SIZE)
		addr += 0x40000000;
	return addr;
}

/* A plain access there, a 32-bit write or an 8-bit read, for an ISA whose
 * trap handler steps over a refused one (x86_64's guards its own). */
static inline void hostile_mmio(uint64_t x)
{
	uint64_t addr = hostile_addr(x);
	if (x & 0x100)
		*(volatile uint32_t *)addr = (uint32_t)x;
	else
		(void)*(volatile uint8_t *)(addr | 1);
}
