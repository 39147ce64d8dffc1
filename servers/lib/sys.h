/* User-space system-call wrappers: struct sysregs is the ABI's registers by
 * role (include/cairn/abi.h); arch/<arch>/user/uarch.h maps them onto the
 * ISA's registers and traps. */
#pragma once
#include "cairn/abi.h"

/* The registers of one system call, in and out. */
struct sysregs {
	uint64_t mr[MSG_WORDS];
	uint64_t nr;            /* number in, error out */
	uint64_t cap;           /* capability in, badge out */
	uint64_t info;
	uint64_t sendcap[MSG_CAPS];
	uint64_t recvslot;
};

#include "uarch.h" /* arch/<arch>/user/: sys(), cycles(), the registers by role... */

/* The stubs below set only the registers they need, by role (each port's
 * uarch.h names them, and what its trap may change besides); make bench
 * measures them.  A yield with nothing but its number (the null system
 * call): */
static inline void sys_yield(void)
{
	register uint64_t nr __asm__(UARCH_REG_NR) = SYS_YIELD;
	__asm__ volatile(UARCH_TRAP : "+r"(nr) : : UARCH_TRAP_CLOBBERS, "memory");
}

/* The two IPC operations a server loop and a client use: one word each
 * way, no capability. */
static inline uint64_t ipc_one_word(uint64_t op, cptr_t ep, uint64_t w, uint64_t *badge, err_t *e)
{
	register uint64_t m0 __asm__(UARCH_REG_MR0) = w, nr __asm__(UARCH_REG_NR) = op;
	register uint64_t cap __asm__(UARCH_REG_CAP) = ep;
	register uint64_t info __asm__(UARCH_REG_INFO) = msginfo(0, 1, 0);
	__asm__ volatile(UARCH_TRAP : "+r"(m0), "+r"(nr), "+r"(cap), "+r"(info)
			 : : UARCH_ONE_WORD_CLOBBERS, "memory");
	*e = (err_t)nr;
	*badge = cap;
	return m0;
}

static inline uint64_t ipc_call1(cptr_t ep, uint64_t w, err_t *e)
{
	uint64_t badge;
	return ipc_one_word(SYS_CALL, ep, w, &badge, e);
}

static inline uint64_t ipc_reply_recv1(cptr_t ep, uint64_t w, uint64_t *badge, err_t *e)
{
	return ipc_one_word(SYS_REPLY_RECV, ep, w, badge, e);
}

/* The VMM's loop: a five-word reply out, six words back (an exit), no
 * capability either way (receive slot 0); info and badge in r. */
static inline err_t ipc_reply_recv5(cptr_t ep, const uint64_t w[5], uint64_t out[6],
				    struct sysregs *r)
{
	register uint64_t m0 __asm__(UARCH_REG_MR0) = w[0], m1 __asm__(UARCH_REG_MR1) = w[1];
	register uint64_t m2 __asm__(UARCH_REG_MR2) = w[2], m3 __asm__(UARCH_REG_MR3) = w[3];
	register uint64_t m4 __asm__(UARCH_REG_MR4) = w[4], m5 __asm__(UARCH_REG_MR5);
	register uint64_t nr __asm__(UARCH_REG_NR) = SYS_REPLY_RECV, cap __asm__(UARCH_REG_CAP) = ep;
	register uint64_t info __asm__(UARCH_REG_INFO) = msginfo(0, 5, 0);
	register uint64_t slot __asm__(UARCH_REG_RECV) = 0;
	__asm__ volatile(UARCH_TRAP
			 : "+r"(m0), "+r"(m1), "+r"(m2), "+r"(m3), "+r"(m4), "=r"(m5), "+r"(nr),
			   "+r"(cap), "+r"(info), "+r"(slot)
			 : : UARCH_FIVE_WORD_CLOBBERS, "memory");
	out[0] = m0, out[1] = m1, out[2] = m2, out[3] = m3, out[4] = m4, out[5] = m5;
	r->nr = nr, r->cap = cap, r->info = info;
	return (err_t)nr;
}

/* An invocation with up to six arguments; results land in out (may be NULL). */
static inline err_t inv(enum sys nr, cptr_t cap, uint64_t a0, uint64_t a1, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5, uint64_t *out)
{
#ifdef UARCH_INV
	return UARCH_INV(nr, cap, a0, a1, a2, a3, a4, a5, out);
#else
	struct sysregs r = { .mr = { a0, a1, a2, a3, a4, a5 }, .nr = nr, .cap = cap };
	err_t e = sys(&r);
	if (out)
		for (unsigned i = 0; i < 5; i++)
			out[i] = r.mr[i];
	return e;
#endif
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
