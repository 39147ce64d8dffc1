/* The user-level test suite: every system call's success path and its
 * error paths (docs/ABI.md), capability transfer, revoke of a blocked
 * endpoint, faults and a copy-on-write pager.  Ends "N passed, N failed". */
#include "servers/root/check.h"
#include "servers/root/suite.h"

static unsigned passed, failed;

static uint64_t mem_used(void) { return accounts_read().mem_used; }

/* --- Memory ------------------------------------------------------------- */

static bool t_retype_every_type(void)
{
	uint64_t before = mem_used();
	static const struct { enum obj_type t; uint64_t size; } objs[] = {
		{ OBJ_MEMORY, 65536 }, { OBJ_CNODE, 4 }, { OBJ_THREAD, 0 },
		{ OBJ_ASPACE, 0 }, { OBJ_FRAME, 12 }, { OBJ_FRAME, 21 },
		{ OBJ_ENDPOINT, 0 }, { OBJ_NOTIFICATION, 0 },
	};
	cptr_t s[8];
	for (unsigned i = 0; i < 8; i++) {
		s[i] = slot_alloc();
		CHECK_ERR(retype(ROOT_MEMORY, objs[i].t, objs[i].size, ROOT_CNODE, s[i]), E_OK);
		uint64_t r[5];
		CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, s[i], 0, 0, 0, 0, 0, r), E_OK);
		CHECK(r[0] == objs[i].t && r[1] == R_ALL);
	}
	CHECK(mem_used() > before + 2 * 1024 * 1024);
	for (unsigned i = 0; i < 8; i++)
		slot_free(s[i]);
	CHECK(mem_used() == before);
	return true;
}

static bool t_retype_errors(void)
{
	cptr_t s = slot_alloc(), ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK_ERR(retype(4000, OBJ_ENDPOINT, 0, ROOT_CNODE, s), E_BADCAP);
	CHECK_ERR(retype(ep, OBJ_ENDPOINT, 0, ROOT_CNODE, s), E_BADTYPE);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_TYPES, 0, ROOT_CNODE, s), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_FRAME, 13, ROOT_CNODE, s), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_CNODE, 17, ROOT_CNODE, s), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_MEMORY, 100, ROOT_CNODE, s), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ENDPOINT, 0, ROOT_CNODE, ep), E_SLOT);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ENDPOINT, 0, ROOT_CNODE, 1u << ROOT_CNODE_BITS), E_RANGE);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ENDPOINT, 0, ep, 5), E_BADTYPE);
	/* A sub-quota: objects beyond it fail with E_NOMEM. */
	cptr_t sub = new_obj(OBJ_MEMORY, 8192);
	CHECK(sub);
	CHECK_ERR(retype(sub, OBJ_FRAME, 12, ROOT_CNODE, s), E_OK);
	cptr_t s2 = slot_alloc();
	CHECK_ERR(retype(sub, OBJ_FRAME, 12, ROOT_CNODE, s2), E_NOMEM);
	/* A Memory capability without the write right cannot retype. */
	cptr_t ro = slot_alloc();
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, sub, R_READ), E_OK);
	CHECK_ERR(retype(ro, OBJ_ENDPOINT, 0, ROOT_CNODE, s2), E_RIGHTS);
	slot_free(ro), slot_free(s), slot_free(s2), slot_free(sub), slot_free(ep);
	return true;
}

/* --- Capabilities ------------------------------------------------------------ */

static bool t_cnode_ops(void)
{
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), a = slot_alloc(), b = slot_alloc();
	uint64_t r[5];
	/* copy restricts rights; it never adds them */
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, a, ROOT_CNODE, ep, R_WRITE), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, a, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] == R_WRITE);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, b, ROOT_CNODE, a, R_ALL), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, b, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] == R_WRITE);
	CHECK_ERR(INV1(SYS_CNODE_DELETE, ROOT_CNODE, b), E_OK);
	/* mint sets a badge once */
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, b, ROOT_CNODE, ep, R_ALL, 42, 0, 0), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, b, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[2] == 42);
	cptr_t c = slot_alloc();
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, c, ROOT_CNODE, b, R_ALL, 7, 0, 0), E_INVAL);
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, c, ROOT_CNODE, ROOT_THREAD, R_ALL, 7, 0, 0),
		  E_BADTYPE);
	/* move keeps the capability, empties the source */
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, c, ROOT_CNODE, b), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, c, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_ENDPOINT && r[2] == 42);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, b, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_NULL);
	/* errors */
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, c, ROOT_CNODE, a), E_SLOT);
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, 1u << ROOT_CNODE_BITS, ROOT_CNODE, a), E_RANGE);
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, b, ROOT_CNODE, 0), E_RANGE);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, a, ROOT_CNODE, b, R_ALL), E_BADCAP);
	CHECK_ERR(INV1(SYS_CNODE_DELETE, ep, 1), E_BADTYPE);
	/* revoke: everything derived from ep goes, ep stays */
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, ep), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, a, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_NULL);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, c, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_NULL);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, ep, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_ENDPOINT && r[3] == 0);
	slot_free(a), slot_free(b), slot_free(c), slot_free(ep);
	return true;
}

static bool t_revoke_deep_and_wide(void)
{
	uint64_t before = mem_used();
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), s[200];
	cptr_t prev = n;
	for (unsigned i = 0; i < 100; i++) { /* a chain 100 deep */
		s[i] = slot_alloc();
		CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, s[i], ROOT_CNODE, prev, R_ALL), E_OK);
		prev = s[i];
	}
	for (unsigned i = 100; i < 200; i++) { /* and 100 children of the middle */
		s[i] = slot_alloc();
		CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, s[i], ROOT_CNODE, s[50], R_ALL), E_OK);
	}
	/* delete in the middle of the chain: its children stay, still derived */
	CHECK_ERR(INV1(SYS_CNODE_DELETE, ROOT_CNODE, s[20]), E_OK);
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, n), E_OK);
	for (unsigned i = 0; i < 200; i++) {
		uint64_t r[5];
		CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, s[i], 0, 0, 0, 0, 0, r), E_OK);
		CHECK(r[0] == OBJ_NULL);
		slot_free(s[i]);
	}
	slot_free(n);
	CHECK(mem_used() == before);
	return true;
}

/* --- IPC -------------------------------------------------------------------- */

/* Echo server: slot 1 is its endpoint.  Replies with each word + 1. */
static void child_echo(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		for (unsigned i = 0; i < MSG_WORDS; i++)
			r.mr[i]++;
		r.info = msginfo(msginfo_label(r.info) + 1, msginfo_len(r.info), 0);
		r.nr = SYS_REPLY_RECV;
		r.cap = 1;
		sys(&r);
	}
}

static bool t_call_reply(void)
{
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), b = slot_alloc();
	CHECK_ERR(child_create(&c, child_echo, 0, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_give(&c, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, b, ROOT_CNODE, ep, R_WRITE, 7, 0, 0), E_OK);
	struct sysregs r = { .mr = { 1, 2, 3, 4, 5, 6, 7, 8 }, .nr = SYS_CALL, .cap = b,
			     .info = msginfo(99, 8, 0) };
	CHECK_ERR(sys(&r), E_OK);
	for (unsigned i = 0; i < 8; i++)
		CHECK(r.mr[i] == i + 2);
	CHECK(msginfo_label(r.info) == 100 && msginfo_len(r.info) == 8);
	/* errors: no write right, wrong type, bad address, would block */
	cptr_t ro = slot_alloc();
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, ep, R_READ), E_OK);
	r = (struct sysregs){ .nr = SYS_CALL, .cap = ro };
	CHECK_ERR(sys(&r), E_RIGHTS);
	r = (struct sysregs){ .nr = SYS_SEND, .cap = ROOT_THREAD };
	CHECK_ERR(sys(&r), E_BADTYPE);
	r = (struct sysregs){ .nr = SYS_SEND, .cap = 3000 };
	CHECK_ERR(sys(&r), E_BADCAP);
	r = (struct sysregs){ .nr = SYS_NB_RECV, .cap = ep };
	CHECK_ERR(sys(&r), E_WOULDBLOCK);
	r = (struct sysregs){ .nr = SYS_REPLY };
	CHECK_ERR(sys(&r), E_NOENT);
	child_destroy(&c);
	slot_free(ro), slot_free(b), slot_free(ep);
	return true;
}

static bool t_nb_send_and_badge(void)
{
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	struct sysregs r = { .nr = SYS_NB_SEND, .cap = ep };
	CHECK_ERR(sys(&r), E_WOULDBLOCK);
	slot_free(ep);
	return true;
}

/* Blocks in a receive on slot 1, then reports what it returned in the
 * shared page. */
static void child_recv_report(uint64_t page)
{
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	err_t e = sys(&r);
	volatile uint64_t *p = (uint64_t *)page;
	p[0] = e;
	p[1] = 1;
	child_park();
}

static bool t_revoke_wakes_blocked(void)
{
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), pf, pc;
	volatile uint64_t *page = new_page(&pf);
	CHECK(page);
	CHECK_ERR(child_create(&c, child_recv_report, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&c, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_start(&c), E_OK); /* higher priority: it runs and blocks */
	uint64_t r[5];
	CHECK_ERR(inv(SYS_THREAD_READ_REGS, c.thread, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[4] == TS_BLOCKED_RECV && page[1] == 0);
	/* revoke the endpoint's children (the child's copy) and delete it */
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, ep), E_OK);
	slot_free(ep);
	CHECK(page[1] == 1 && page[0] == E_CANCELLED);
	child_destroy(&c);
	slot_free(pc), slot_free(pf);
	return true;
}

/* Receives one capability into its slot 2 and reports the message info. */
static void child_take_cap(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1, .recvslot = 2 };
	p[0] = sys(&r);
	p[1] = r.info;
	/* use the capability it got: signal the notification */
	r = (struct sysregs){ .nr = SYS_SIGNAL, .cap = 2, .mr = { 0x10 } };
	p[2] = sys(&r);
	p[3] = 1;
	child_park();
}

static bool t_cap_transfer(void)
{
	for (unsigned grant = 0; grant < 2; grant++) {
		struct child c;
		cptr_t ep = new_obj(OBJ_ENDPOINT, 0), n = new_obj(OBJ_NOTIFICATION, 0);
		cptr_t pf, pc, s = slot_alloc();
		volatile uint64_t *page = new_page(&pf);
		CHECK_ERR(child_create(&c, child_take_cap, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
		CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
		CHECK_ERR(child_give(&c, 1, ep, R_READ), E_OK);
		CHECK_ERR(child_start(&c), E_OK);
		CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, s, ROOT_CNODE, ep,
			       R_WRITE | (grant ? R_GRANT : 0)), E_OK);
		struct sysregs r = { .nr = SYS_SEND, .cap = s, .info = msginfo(5, 0, 1),
				     .sendcap = { n } };
		CHECK_ERR(sys(&r), E_OK);
		CHECK(page[3] == 1 && page[0] == E_OK);
		CHECK(msginfo_caps(page[1]) == grant);
		CHECK(page[2] == (grant ? E_OK : E_BADCAP));
		uint64_t out[5];
		CHECK_ERR(inv(SYS_POLL, n, 0, 0, 0, 0, 0, 0, out), E_OK);
		struct sysregs w = { .nr = SYS_POLL, .cap = n };
		sys(&w);
		(void)out;
		child_destroy(&c);
		slot_free(s), slot_free(pc), slot_free(pf), slot_free(ep), slot_free(n);
	}
	return true;
}

/* --- Notifications ------------------------------------------------------- */

static bool t_notifications(void)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), b = slot_alloc();
	struct sysregs r = { .nr = SYS_POLL, .cap = n };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(r.cap == 0);
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, b, ROOT_CNODE, n, R_WRITE, 0x100, 0, 0), E_OK);
	CHECK_ERR(INV1(SYS_SIGNAL, n, 0x3), E_OK);
	CHECK_ERR(INV1(SYS_SIGNAL, b, 0x4), E_OK);
	r = (struct sysregs){ .nr = SYS_WAIT, .cap = n };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(r.cap == 0x107);
	r = (struct sysregs){ .nr = SYS_POLL, .cap = n };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(r.cap == 0);
	r = (struct sysregs){ .nr = SYS_WAIT, .cap = b };
	CHECK_ERR(sys(&r), E_RIGHTS);
	/* a bound notification ends a receive */
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK_ERR(INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, n), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, n), E_BUSY);
	CHECK_ERR(INV1(SYS_SIGNAL, n, 0x8), E_OK);
	r = (struct sysregs){ .nr = SYS_RECV, .cap = ep };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(msginfo_label(r.info) == MSG_LABEL_NOTIFY && r.cap == 0x8);
	CHECK_ERR(INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, 0), E_OK);
	slot_free(ep), slot_free(b), slot_free(n);
	return true;
}

/* --- Threads ------------------------------------------------------------------ */

static bool t_thread_ops(void)
{
	cptr_t th = new_obj(OBJ_THREAD, 0);
	uint64_t r[5];
	CHECK_ERR(INV0(SYS_THREAD_RESUME, th), E_INVAL); /* not configured */
	CHECK_ERR(INV2(SYS_THREAD_SET_PRIORITY, th, 300, 0), E_INVAL);
	CHECK_ERR(INV2(SYS_THREAD_SET_PRIORITY, th, 50, 50), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, th, 64), E_INVAL);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, th, bootinfo->ncpus - 1), E_OK);
	CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, th, 0x1234, 0x8000, 5, 6), E_OK);
	CHECK_ERR(inv(SYS_THREAD_READ_REGS, th, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == 0x1234 && r[1] == 0x8000 && r[2] == 5 && r[3] == 6 && r[4] == TS_INACTIVE);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, ROOT_ASPACE, 0, 0), E_BADTYPE);
	CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, ROOT_THREAD, 0, 0, 0, 0), E_INVAL);
	slot_free(th); /* MCP: t_more_errors */
	CHECK_ERR(INV2(SYS_THREAD_SET_PRIORITY, ROOT_THREAD, ROOT_PRIO, 255), E_OK);
	return true;
}

static bool t_unknown_syscall(void)
{
	struct sysregs r = { .nr = 200 };
	CHECK_ERR(sys(&r), E_NOSYS); /* the root task has no fault endpoint */
	r = (struct sysregs){ .nr = SYS_DEBUG_WRITE, .cap = ROOT_CONSOLE, .info = 65 };
	CHECK_ERR(sys(&r), E_RANGE);
	r = (struct sysregs){ .nr = SYS_DEBUG_STATS, .cap = ROOT_MEMORY };
	CHECK_ERR(sys(&r), E_BADTYPE);
	return true;
}

/* --- Address spaces ----------------------------------------------------------- */

static bool t_map_errors(void)
{
	cptr_t f = new_obj(OBJ_FRAME, 12), big = new_obj(OBJ_FRAME, 21), ro = slot_alloc();
	uint64_t va = 0x20000000, r[5];
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va + 8, R_READ), E_ALIGN);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, 1ull << USER_VA_BITS, R_READ), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_WRITE), E_INVAL);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, ROOT_BOOTINFO_VA, R_READ), E_OVERLAP);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_READ | R_WRITE), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va + 4096, R_READ), E_BUSY);
	CHECK_ERR(inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == 4096 && r[1] == va);
	*(volatile uint64_t *)va = 77;
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, f, R_READ), E_OK);
	CHECK(*(volatile uint64_t *)va == 77);
	CHECK_ERR(INV1(SYS_AS_UNMAP, ROOT_ASPACE, f), E_OK);
	CHECK_ERR(INV1(SYS_AS_UNMAP, ROOT_ASPACE, f), E_NOENT);
	/* rights no greater than the capability's */
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_READ), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, ro, va, R_READ | R_WRITE), E_RIGHTS);
	/* 2 MiB pages */
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, big, 0x20100000, R_READ | R_WRITE), E_ALIGN);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, big, 0x20200000, R_READ | R_WRITE), E_OK);
	volatile uint64_t *p = (uint64_t *)0x20200000;
	p[0] = 1, p[262143] = 2;
	CHECK(p[0] == 1 && p[262143] == 2);
	slot_free(ro), slot_free(f), slot_free(big); /* delete unmaps */
	return true;
}

/* Wait for a lower-priority child to signal its slot 2. */
static bool wait_done(struct child *c)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0);
	if (!n || child_give(c, 2, n, R_WRITE))
		return false;
	struct sysregs r = { .nr = SYS_WAIT, .cap = n };
	err_t e = sys(&r);
	slot_free(n);
	return e == E_OK;
}

/* --- Faults ------------------------------------------------------------------- */

#ifndef UNDEFINED_INSN_BYTES
#define UNDEFINED_INSN_BYTES 4 /* uarch.h's UNDEFINED_INSN: AArch64's and RISC-V's */
#endif

/* Touches its shared page at +8 pages (unmapped: the pager maps it),
 * executes an undefined instruction, makes an unknown system call, then
 * reports. */
static void child_faulter(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)(page + 8 * 4096);
	p[0] = 0xfeed;                      /* page fault: the pager maps a page */
	UNDEFINED_INSN();                   /* the handler skips it */
	struct sysregs r = { .nr = 200 };     /* unknown: the handler sees it */
	sys(&r);
	volatile uint64_t *q = (uint64_t *)page;
	q[1] = p[0];
	q[0] = 1;
	INV1(SYS_SIGNAL, 2, 1);
	child_park();
}

static bool t_fault_and_resume(void)
{
	struct child c;
	cptr_t fep = new_obj(OBJ_ENDPOINT, 0), pf, pc, nf, nc;
	volatile uint64_t *page = new_page(&pf);
	CHECK_ERR(child_create(&c, child_faulter, CHILD_SHARED_VA, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, c.thread, 0, 0, fep), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	struct sysregs r = { .nr = SYS_RECV, .cap = fep };
	CHECK_ERR(sys(&r), E_OK); /* the page fault */
	CHECK(msginfo_label(r.info) == FAULT_PAGE);
	CHECK(r.mr[0] == CHILD_SHARED_VA + 8 * 4096 && r.mr[3] == 1);
	volatile uint64_t *np = new_page(&nf);
	*np = 0x1111;
	CHECK_ERR(child_map(&c, nf, CHILD_SHARED_VA + 8 * 4096, R_READ | R_WRITE, &nc), E_OK);
	r = (struct sysregs){ .nr = SYS_REPLY_RECV, .cap = fep, .info = msginfo(0, 0, 0) };
	CHECK_ERR(sys(&r), E_OK); /* retried, then the undefined instruction */
	CHECK(msginfo_label(r.info) == FAULT_UNDEFINED);
	uint64_t pc_at = r.mr[1];
	r = (struct sysregs){ .nr = SYS_REPLY_RECV, .cap = fep, .mr = { 1, pc_at + UNDEFINED_INSN_BYTES },
			      .info = msginfo(0, 2, 0) };
	CHECK_ERR(sys(&r), E_OK); /* resumed past it, then the unknown system call */
	CHECK(msginfo_label(r.info) == FAULT_SYSCALL && r.mr[0] == 200);
	r = (struct sysregs){ .nr = SYS_REPLY, .info = msginfo(0, 0, 0) };
	CHECK_ERR(sys(&r), E_OK); /* continues after the svc */
	CHECK(wait_done(&c));
	CHECK(page[0] == 1 && page[1] == 0xfeed && *np == 0xfeed);
	child_destroy(&c);
	slot_free(nc), slot_free(nf), slot_free(pc), slot_free(pf), slot_free(fep);
	return true;
}

/* Copy-on-write: the child sees a page shared read-only with the root;
 * its first write faults to the pager, which gives it a private copy. */
static void child_cow(uint64_t page)
{
	volatile uint64_t *shared = (uint64_t *)(page + 4096);
	volatile uint64_t *report = (uint64_t *)page;
	uint64_t before = shared[0];
	shared[0] = before + 1; /* write fault: copy on write */
	report[1] = before;
	report[2] = shared[0];
	report[0] = 1;
	INV1(SYS_SIGNAL, 2, 1);
	child_park();
}

static bool t_copy_on_write(void)
{
	struct child c;
	cptr_t fep = new_obj(OBJ_ENDPOINT, 0), pf, pc, sf, sc, cf, cc;
	volatile uint64_t *report = new_page(&pf), *orig = new_page(&sf);
	orig[0] = 500;
	CHECK_ERR(child_create(&c, child_cow, CHILD_SHARED_VA, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_map(&c, sf, CHILD_SHARED_VA + 4096, R_READ, &sc), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, c.thread, 0, 0, fep), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	struct sysregs r = { .nr = SYS_RECV, .cap = fep };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(msginfo_label(r.info) == FAULT_PAGE && r.mr[3] == 1);
	CHECK(r.mr[0] == CHILD_SHARED_VA + 4096);
	/* the pager: copy, unmap the shared page, map the copy writable */
	volatile uint64_t *copy = new_page(&cf);
	for (unsigned i = 0; i < 512; i++)
		copy[i] = orig[i];
	CHECK_ERR(INV1(SYS_AS_UNMAP, c.as, sc), E_OK);
	CHECK_ERR(child_map(&c, cf, CHILD_SHARED_VA + 4096, R_READ | R_WRITE, &cc), E_OK);
	r = (struct sysregs){ .nr = SYS_REPLY, .info = msginfo(0, 0, 0) };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(wait_done(&c));
	CHECK(report[0] == 1 && report[1] == 500 && report[2] == 501);
	CHECK(orig[0] == 500 && copy[0] == 501);
	child_destroy(&c);
	slot_free(cc), slot_free(cf), slot_free(sc), slot_free(sf), slot_free(pc);
	slot_free(pf), slot_free(fep);
	return true;
}

/* --- Accounting ---------------------------------------------------------------- */

static bool t_create_delete_leaks_nothing(void)
{
	struct accounts before = accounts_read();
	for (unsigned i = 0; i < 20; i++) {
		struct child c;
		CHECK_ERR(child_create(&c, child_echo, 0, 1), E_OK);
		child_destroy(&c);
	}
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
ROOT_TEST("create-delete-leaks-nothing", t_create_delete_leaks_nothing);

static const struct root_test tests[] = {
	{ "boot-info", t_boot_info, 0 },
	{ "retype-every-type", t_retype_every_type, 0 },
	{ "retype-errors", t_retype_errors, 0 },
	{ "cnode-ops", t_cnode_ops, 0 },
	{ "revoke-deep-and-wide", t_revoke_deep_and_wide, 0 },
	{ "call-reply", t_call_reply, 0 },
	{ "nb-send", t_nb_send_and_badge, 0 },
	{ "revoke-wakes-blocked", t_revoke_wakes_blocked, 0 },
	{ "cap-transfer", t_cap_transfer, 0 },
	{ "notifications", t_notifications, 0 },
	{ "thread-ops", t_thread_ops, 0 },
	{ "unknown-syscall", t_unknown_syscall, 0 },
	{ "map-errors", t_map_errors, 0 },
	{ "fault-and-resume", t_fault_and_resume, 0 },
	{ "copy-on-write", t_copy_on_write, 0 },
	{ "user-irq", t_user_irq, UARCH_HAS_UTIMER },
	{ "ring-between-tasks", t_ring_between_tasks, 0 },
	{ "page-transfer", t_page_transfer, 0 },
	{ "thread-errors", t_thread_errors, 0 },
	{ "cap-and-map-errors", t_cap_and_map_errors, 0 },
	{ "map-out-of-memory", t_map_out_of_memory, 0 },
	{ "fp-state", t_fp_state, 0 },
	{ "cancellations", t_cancellations, 0 },
};

/* root.only=NAME runs one test (and the invariants after it);
 * root.only=PREFIX* those whose names start so. */
static bool wanted(const char *name)
{
	const char *o = strstr(bootinfo->bootargs, "root.only=");
	if (!o || !strcmp(name, "kernel-invariants"))
		return true;
	o += sizeof("root.only=") - 1;
	size_t k = 0, n = strlen(name);
	while (o[k] && o[k] != ' ')
		k++;
	if (k && o[k - 1] == '*')
		return !strncmp(o, name, k - 1);
	return k == n && !memcmp(o, name, n);
}

/* What this machine has (the kernel's bits and the user ISA's), what each
 * bit is called, and how many tests were skipped for want of it. */
static const char *const need_names[64] = {
	[0] = "vcpu", [1] = "iommu", [2] = "hotplug", [32] = "utimer", [33] = "aarch64",
	[34] = "a privileged-instruction list", [35] = "a guest timer",
	[36] = "x86_64", [37] = "a second guest VCPU", [38] = "a guest's SBI",
};
static unsigned skipped, skipped_for[64];

static void run_one(const struct root_test *t)
{
	if (!wanted(t->name))
		return;
	uint64_t missing = t->needs & ~(bootinfo->features | UARCH_FEATURES);
	if (missing) {
		unsigned b = (unsigned)__builtin_ctzll(missing);
		printf("root: skip %s (needs %s)\n", t->name, need_names[b] ? need_names[b] : "?");
		skipped++, skipped_for[b]++;
		return;
	}
	bool ok = t->fn();
	printf("root: %s %s\n", ok ? "ok  " : "FAIL", t->name);
	ok ? passed++ : failed++;
}

extern const struct root_test __start_root_tests[], __stop_root_tests[];

/* After the whole suite the kernel's own structures are consistent. */
static bool kernel_invariants(void)
{
	CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	return true;
}

void run_tests(void)
{
	static const struct root_test last = { "kernel-invariants", kernel_invariants, 0 };
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		run_one(&tests[i]);
	for (const struct root_test *t = __start_root_tests; t < __stop_root_tests; t++)
		run_one(t);
	run_one(&last);
	if (skipped) {
		printf("root: %u skipped, this machine lacks:", skipped);
		for (unsigned b = 0; b < 64; b++)
			if (skipped_for[b])
				printf(" %s (%u)", need_names[b] ? need_names[b] : "?", skipped_for[b]);
		printf("\n");
	}
	printf("root: %u passed, %u failed\n", passed, failed);
}
