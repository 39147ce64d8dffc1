/* A native thread cannot touch the kernel's state: every privileged
 * instruction uarch.h lists (translation, trap and interrupt control, the
 * hypervisor's own registers, return from a trap, wait for interrupt) is
 * an undefined-instruction fault at its own pc, and the thread goes on
 * past it when its handler says so. */
#include "servers/root/check.h"

#ifndef UARCH_PRIVILEGED_INSNS /* none listed (no UARCH_HAS_PRIV_LIST): never run */
#define UARCH_PRIVILEGED_INSNS() do { } while (0)
#define UARCH_PRIVILEGED_N 1
#define UARCH_PRIVILEGED_BYTES 4
#endif

static void child_privileged(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	UARCH_PRIVILEGED_INSNS();
	p[0] = 1;
	child_park();
}

static bool t_privileged_insns(void)
{
	struct child c;
	cptr_t fep = new_obj(OBJ_ENDPOINT, 0), pf, pc;
	volatile uint64_t *page = new_page(&pf);
	CHECK(fep && page);
	CHECK_ERR(child_create(&c, child_privileged, CHILD_SHARED_VA, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, c.thread, 0, 0, fep), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	struct sysregs r = { .nr = SYS_RECV, .cap = fep };
	CHECK_ERR(sys(&r), E_OK);
	uint64_t first = r.mr[1];
	for (unsigned i = 0; i < UARCH_PRIVILEGED_N; i++) {
		CHECK(msginfo_label(r.info) == FAULT_UNDEFINED);
		CHECK(r.mr[1] == first + i * UARCH_PRIVILEGED_BYTES); /* each one, in turn */
		r = (struct sysregs){ .nr = i + 1 < UARCH_PRIVILEGED_N ? SYS_REPLY_RECV : SYS_REPLY,
				      .cap = fep, .mr = { 1, r.mr[1] + UARCH_PRIVILEGED_BYTES },
				      .info = msginfo(0, 2, 0) };
		CHECK_ERR(sys(&r), E_OK);
	}
	for (unsigned i = 0; page[0] == 0; i++) {
		CHECK(i < 1000000);
		INV0(SYS_YIELD, 0);
	}
	child_destroy(&c);
	slot_free(pc), slot_free(pf), slot_free(fep);
	return true;
}
ROOT_TEST_NEEDS("privileged-insns", t_privileged_insns, UARCH_HAS_PRIV_LIST);
