/* User-space system-call wrappers (AArch64: svc #0 with the registers of
 * include/cairn/abi.h). */
#pragma once
#include "cairn/abi.h"

/* The registers of one system call, in and out. */
struct sysregs {
	uint64_t mr[MSG_WORDS]; /* x0-x7 */
	uint64_t nr;            /* x8: number in, error out */
	uint64_t cap;           /* x9: capability in, badge out */
	uint64_t info;          /* x10 */
	uint64_t sendcap[MSG_CAPS]; /* x11-x13 */
	uint64_t recvslot;      /* x14 */
};

static inline err_t sys(struct sysregs *r)
{
	register uint64_t x0 __asm__("x0") = r->mr[0], x1 __asm__("x1") = r->mr[1];
	register uint64_t x2 __asm__("x2") = r->mr[2], x3 __asm__("x3") = r->mr[3];
	register uint64_t x4 __asm__("x4") = r->mr[4], x5 __asm__("x5") = r->mr[5];
	register uint64_t x6 __asm__("x6") = r->mr[6], x7 __asm__("x7") = r->mr[7];
	register uint64_t x8 __asm__("x8") = r->nr, x9 __asm__("x9") = r->cap;
	register uint64_t x10 __asm__("x10") = r->info, x11 __asm__("x11") = r->sendcap[0];
	register uint64_t x12 __asm__("x12") = r->sendcap[1], x13 __asm__("x13") = r->sendcap[2];
	register uint64_t x14 __asm__("x14") = r->recvslot;
	__asm__ volatile("svc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5),
			   "+r"(x6), "+r"(x7), "+r"(x8), "+r"(x9), "+r"(x10), "+r"(x11),
			   "+r"(x12), "+r"(x13), "+r"(x14)
			 : : "memory");
	r->mr[0] = x0, r->mr[1] = x1, r->mr[2] = x2, r->mr[3] = x3;
	r->mr[4] = x4, r->mr[5] = x5, r->mr[6] = x6, r->mr[7] = x7;
	r->nr = x8, r->cap = x9, r->info = x10;
	return (err_t)x8;
}

/* An invocation with up to six arguments; results land in out (may be NULL). */
static inline err_t inv(enum sys nr, cptr_t cap, uint64_t a0, uint64_t a1, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5, uint64_t *out)
{
	struct sysregs r = { .mr = { a0, a1, a2, a3, a4, a5 }, .nr = nr, .cap = cap };
	err_t e = sys(&r);
	if (out)
		for (unsigned i = 0; i < 5; i++)
			out[i] = r.mr[i];
	return e;
}

#define INV0(nr, cap) inv(nr, cap, 0, 0, 0, 0, 0, 0, 0)
#define INV1(nr, cap, a) inv(nr, cap, a, 0, 0, 0, 0, 0, 0)
#define INV2(nr, cap, a, b) inv(nr, cap, a, b, 0, 0, 0, 0, 0)
#define INV3(nr, cap, a, b, c) inv(nr, cap, a, b, c, 0, 0, 0, 0)
#define INV4(nr, cap, a, b, c, d) inv(nr, cap, a, b, c, d, 0, 0, 0)

static inline err_t retype(cptr_t mem, enum obj_type type, uint64_t size, cptr_t cnode,
			   uint64_t idx)
{
	return INV4(SYS_MEM_RETYPE, mem, type, size, cnode, idx);
}

/* Cycle counter (counts instructions under QEMU -icount shift=0). */
static inline uint64_t cycles(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, pmccntr_el0" : "=r"(v));
	return v;
}

/* The two IPC operations a server loop and a client use, with nothing but
 * the registers they need (the benchmarks measure these). */
static inline uint64_t ipc_call1(cptr_t ep, uint64_t w, err_t *e)
{
	register uint64_t x0 __asm__("x0") = w, x8 __asm__("x8") = SYS_CALL;
	register uint64_t x9 __asm__("x9") = ep, x10 __asm__("x10") = msginfo(0, 1, 0);
	__asm__ volatile("svc #0" : "+r"(x0), "+r"(x8), "+r"(x9), "+r"(x10)
			 : : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x11", "x12",
			     "x13", "x14", "memory");
	*e = (err_t)x8;
	return x0;
}

static inline uint64_t ipc_reply_recv1(cptr_t ep, uint64_t w, uint64_t *badge, err_t *e)
{
	register uint64_t x0 __asm__("x0") = w, x8 __asm__("x8") = SYS_REPLY_RECV;
	register uint64_t x9 __asm__("x9") = ep, x10 __asm__("x10") = msginfo(0, 1, 0);
	__asm__ volatile("svc #0" : "+r"(x0), "+r"(x8), "+r"(x9), "+r"(x10)
			 : : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x11", "x12",
			     "x13", "x14", "memory");
	*e = (err_t)x8;
	*badge = x9;
	return x0;
}
