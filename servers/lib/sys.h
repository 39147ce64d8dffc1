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

#include "uarch.h" /* arch/<arch>/user/: sys(), ipc_call1(), cycles()... */

/* A yield with nothing but its number (make bench's null system call). */
static inline void sys_yield(void)
{
	register uint64_t nr __asm__(UARCH_REG_NR) = SYS_YIELD;
	__asm__ volatile(UARCH_TRAP : "+r"(nr) : : UARCH_TRAP_CLOBBERS, "memory");
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
