/* The Supervisor Binary Interface: what OpenSBI (or any M-mode firmware)
 * does for us: console before the UART, timer without Sstc, hart start
 * and stop, and system reset. */
#include "arch/riscv64/riscv.h"
#include "hyp/printk.h"


static struct sbiret sbi_call5(long ext, long fid, uint64_t a0, uint64_t a1, uint64_t a2,
			       uint64_t a3, uint64_t a4)
{
	register uint64_t r0 __asm__("a0") = a0, r1 __asm__("a1") = a1;
	register uint64_t r2 __asm__("a2") = a2, r3 __asm__("a3") = a3, r4 __asm__("a4") = a4;
	register long r6 __asm__("a6") = fid, r7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

struct sbiret sbi_call(long ext, long fid, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return sbi_call5(ext, fid, a0, a1, a2, 0, 0);
}

void sbi_console_putchar(char c)
{
	sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, (uint8_t)c, 0, 0);
}

bool sbi_has(long ext)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, 3 /* probe_extension */, ext, 0, 0);
	return r.error == 0 && r.value != 0;
}

_Noreturn void sbi_shutdown(void)
{
	sbi_call(SBI_EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */, 0);
	for (;;)
		__asm__ volatile("wfi");
}

long sbi_hart_start(uint64_t hartid, uint64_t start_pa, uint64_t opaque)
{
	return sbi_call(SBI_EXT_HSM, 0, hartid, start_pa, opaque).error;
}

void sbi_hart_stop(void) { sbi_call(SBI_EXT_HSM, 1, 0, 0, 0); }
/* hart_stop is in HSM from its first version (SBI 0.2), with hart_start */
bool sbi_can_stop_harts(void) { return sbi_has(SBI_EXT_HSM); }

void sbi_set_timer(uint64_t deadline)
{
	sbi_call(SBI_EXT_TIME, 0, deadline, 0, 0);
}

void sbi_describe(char *buf, size_t len)
{
	long spec = sbi_call(SBI_EXT_BASE, 0, 0, 0, 0).value;
	long impl = sbi_call(SBI_EXT_BASE, 1, 0, 0, 0).value;
	long ver = sbi_call(SBI_EXT_BASE, 2, 0, 0, 0).value;
	snprintf(buf, len, "SBI %ld.%ld (%s %ld.%ld)", (spec >> 24) & 0x7f,
		 spec & 0xffffff, impl == 1 ? "OpenSBI" : "impl", ver >> 16,
		 ver & 0xffff);
}

/* A supervisor software interrupt on one hart (an IPI). */
void sbi_send_ipi(uint64_t hartid)
{
	sbi_call(SBI_EXT_IPI, 0, 1, hartid, 0);
}

/* HFENCE.GVMA on every hart (hart_mask_base -1), for one VMID or for all.
 * Whole VMIDs, not one address: OpenSBI 1.1 passes the address to
 * HFENCE.GVMA without the ">> 2" it wants (flushing the wrong page), and
 * takes only start = size = 0 for "everything" (size -1, which the SBI
 * spec also allows, makes it loop over 2^52 pages). */
void sbi_hfence_gvma(bool all, unsigned vmid)
{
	sbi_call5(SBI_EXT_RFENCE, all ? 4 : 3, 0, (uint64_t)-1, 0, 0, vmid);
}

/* hart_mask_base for a mask of hart ids below 64, all ones meaning every
 * hart. */
static uint64_t mask_base(uint64_t mask) { return mask == ~0ull ? (uint64_t)-1 : 0; }

/* The same for one VMID on the harts in `mask` (hart ids below 64; all
 * ones: every hart). */
void sbi_hfence_gvma_harts(uint64_t mask, unsigned vmid)
{
	sbi_call5(SBI_EXT_RFENCE, 3, mask, mask_base(mask), 0, 0, vmid);
}

/* HFENCE.VVMA, all addresses, for the VMID in this hart's hgatp (which the
 * firmware reads), on the harts in `mask`; start = size = 0 is
 * "everything", as for HFENCE.GVMA. */
long sbi_hfence_vvma_harts(uint64_t mask)
{
	return sbi_call5(SBI_EXT_RFENCE, 6, mask, mask_base(mask), 0, 0, 0).error;
}

/* FENCE.I on the harts in `mask`. */
long sbi_fence_i_harts(uint64_t mask)
{
	return sbi_call(SBI_EXT_RFENCE, 0, mask, mask_base(mask), 0).error;
}
