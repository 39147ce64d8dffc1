/* Argument boundaries: every scalar argument of every call, at its largest
 * valid value, its first invalid one and with high bits set above a valid
 * value (bit 32, bit 63, all ones), so that a kernel that narrows an
 * argument before checking it shows up.  Also the interrupt lines the
 * controller really has, identify of an unmapped frame copy, and the PMU
 * registers EL0 may not write. */
#include "servers/root/check.h"

#define H (1ull << 32)
#define T (1ull << 63)
#define A (~0ull)
#define TOP_VA ((1ull << USER_VA_BITS) - PAGE_SIZE_U)
#define MAPPED_VA 0x40000000ull

/* The objects the rows name. */
struct env {
	cptr_t d, f, fm, as, ep, n, th;
};

struct row {
	unsigned line;
	enum sys nr;
	cptr_t cap;
	uint64_t a[6], info;
	err_t want;
};
#define ROW(want_, nr_, cap_, ...) { __LINE__, nr_, cap_, { __VA_ARGS__ }, 0, want_ }

/* Undo what a row that succeeded made: deleting an empty slot and
 * unmapping an unmapped frame are harmless. */
static void cleanup(const struct env *e)
{
	INV1(SYS_CNODE_DELETE, ROOT_CNODE, e->d);
	INV1(SYS_AS_UNMAP, e->as, e->f);
}

/* Runs the rows; a failing row prints its line and the test goes on, so
 * one run shows every argument that is checked wrongly.  A call that
 * fails must leave the accounts as they were. */
static bool run_rows(const struct row *r, unsigned n, const struct env *e)
{
	bool all = true;
	for (unsigned i = 0; i < n; i++, r++) {
		struct accounts before = accounts_read();
		struct sysregs s = { .nr = r->nr, .cap = r->cap, .info = r->info };
		for (unsigned j = 0; j < 6; j++)
			s.mr[j] = r->a[j];
		err_t got = sys(&s);
		bool ok = got == r->want &&
			  (r->want == E_OK || accounts_equal(accounts_read(), before));
		if (!ok)
			printf("root: FAIL args row at %s:%u: gave %u, wanted %u\n", __FILE__,
			       r->line, got, r->want);
		all = all && ok;
		cleanup(e);
	}
	return all;
}

static bool env_make(struct env *e)
{
	*e = (struct env){ slot_alloc(), new_obj(OBJ_FRAME, FRAME_BITS_4K),
			   new_obj(OBJ_FRAME, FRAME_BITS_4K), new_obj(OBJ_ASPACE, 0),
			   new_obj(OBJ_ENDPOINT, 0), new_obj(OBJ_NOTIFICATION, 0),
			   new_obj(OBJ_THREAD, 0) };
	return e->d && e->f && e->fm && e->as && e->ep && e->n && e->th &&
	       INV3(SYS_AS_MAP, e->as, e->fm, MAPPED_VA, R_READ | R_WRITE) == E_OK;
}

static void env_free(struct env *e)
{
	cptr_t *s = &e->d;
	for (unsigned i = 0; i < sizeof(*e) / sizeof(cptr_t); i++)
		slot_free(s[i]);
}

/* Memory, CNode and thread calls. */
static bool cap_rows(const struct env *e)
{
	const cptr_t M = ROOT_MEMORY, C = ROOT_CNODE, d = e->d;
	const struct row rows[] = {
		/* retype: type */
		ROW(E_OK, SYS_MEM_RETYPE, M, OBJ_NOTIFICATION, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_NOTIFICATION + 1, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_NULL, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, H | OBJ_ENDPOINT, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, T | OBJ_ENDPOINT, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, A, 0, C, d),
		/* retype: size, per type */
		ROW(E_OK, SYS_MEM_RETYPE, M, OBJ_CNODE, CNODE_MAX_BITS, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_CNODE, CNODE_MAX_BITS + 1, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_CNODE, 0, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_CNODE, H | 4, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_CNODE, T | 4, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_CNODE, A, C, d),
		ROW(E_OK, SYS_MEM_RETYPE, M, OBJ_FRAME, FRAME_BITS_2M, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_FRAME, FRAME_BITS_2M + 1, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_FRAME, FRAME_BITS_4K + 1, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_FRAME, H | FRAME_BITS_4K, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_FRAME, T | FRAME_BITS_4K, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_FRAME, A, C, d),
		ROW(E_OK, SYS_MEM_RETYPE, M, OBJ_MEMORY, 4096, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_MEMORY, 4095, C, d),
		ROW(E_NOMEM, SYS_MEM_RETYPE, M, OBJ_MEMORY, H | 4096, C, d),
		ROW(E_NOMEM, SYS_MEM_RETYPE, M, OBJ_MEMORY, T | 4096, C, d),
		ROW(E_INVAL, SYS_MEM_RETYPE, M, OBJ_MEMORY, A, C, d),
		/* retype: destination and the invoked capability */
		ROW(E_RANGE, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, C, 1ull << ROOT_CNODE_BITS),
		ROW(E_RANGE, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, C, 0),
		ROW(E_RANGE, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, C, H | d),
		ROW(E_RANGE, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, C, T | d),
		ROW(E_RANGE, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, C, A),
		ROW(E_BADCAP, SYS_MEM_RETYPE, M, OBJ_ENDPOINT, 0, H | C, d),
		ROW(E_BADCAP, SYS_MEM_RETYPE, H | M, OBJ_ENDPOINT, 0, C, d),
		/* copy: indices and the rights mask */
		ROW(E_OK, SYS_CNODE_COPY, C, d, C, e->ep, R_ALL),
		ROW(E_INVAL, SYS_CNODE_COPY, C, d, C, e->ep, R_ALL + 1),
		ROW(E_INVAL, SYS_CNODE_COPY, C, d, C, e->ep, H | R_READ),
		ROW(E_INVAL, SYS_CNODE_COPY, C, d, C, e->ep, T | R_READ),
		ROW(E_INVAL, SYS_CNODE_COPY, C, d, C, e->ep, A),
		ROW(E_RANGE, SYS_CNODE_COPY, C, 1ull << ROOT_CNODE_BITS, C, e->ep, R_ALL),
		ROW(E_RANGE, SYS_CNODE_COPY, C, H | d, C, e->ep, R_ALL),
		ROW(E_RANGE, SYS_CNODE_COPY, C, d, C, H | e->ep, R_ALL),
		ROW(E_RANGE, SYS_CNODE_COPY, C, d, C, A, R_ALL),
		/* mint: mask, badge (any 64 bits), guard length and guard */
		ROW(E_OK, SYS_CNODE_MINT, C, d, C, e->ep, R_ALL, A, 0),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, e->ep, H | R_READ, 1, 0),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, e->ep, A, 1, 0),
		ROW(E_OK, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, 64 - ROOT_CNODE_BITS),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, 65 - ROOT_CNODE_BITS),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, H | 1),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, T | 1),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, A),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 0, A - 1),
		ROW(E_OK, SYS_CNODE_MINT, C, d, C, C, R_ALL, 15, 4),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 16, 4),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, H | 1, 4),
		ROW(E_INVAL, SYS_CNODE_MINT, C, d, C, C, R_ALL, 1, 0),
		/* move, delete, revoke, identify: indices (the frame must survive) */
		ROW(E_RANGE, SYS_CNODE_MOVE, C, H | d, C, e->ep),
		ROW(E_RANGE, SYS_CNODE_MOVE, C, d, C, T | e->ep),
		ROW(E_RANGE, SYS_CNODE_DELETE, C, H | e->f),
		ROW(E_RANGE, SYS_CNODE_DELETE, C, T | e->f),
		ROW(E_RANGE, SYS_CNODE_REVOKE, C, H | e->f),
		ROW(E_RANGE, SYS_CNODE_IDENTIFY, C, H | e->f),
		ROW(E_RANGE, SYS_CNODE_IDENTIFY, C, 1ull << ROOT_CNODE_BITS),
		/* thread: priority and MCP, CPU, capability arguments */
		ROW(E_OK, SYS_THREAD_SET_PRIORITY, e->th, PRIO_LEVELS - 1, PRIO_LEVELS - 1),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, PRIO_LEVELS, 0),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, 0, PRIO_LEVELS),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, H | 1, 0),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, T | 1, 0),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, A, 0),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, 0, H | 1),
		ROW(E_INVAL, SYS_THREAD_SET_PRIORITY, e->th, 0, A),
		ROW(E_OK, SYS_THREAD_SET_AFFINITY, e->th, bootinfo->ncpus - 1),
		ROW(E_INVAL, SYS_THREAD_SET_AFFINITY, e->th, bootinfo->ncpus),
		ROW(E_INVAL, SYS_THREAD_SET_AFFINITY, e->th, H),
		ROW(E_INVAL, SYS_THREAD_SET_AFFINITY, e->th, T),
		ROW(E_OK, SYS_THREAD_SET_AFFINITY, e->th, A), /* AFFINITY_ANY: floating */
		ROW(E_INVAL, SYS_THREAD_SET_AFFINITY, e->th, A - 1),
		ROW(E_BADCAP, SYS_THREAD_CONFIGURE, e->th, H | C, 0, 0),
		ROW(E_BADCAP, SYS_THREAD_CONFIGURE, e->th, 0, H | e->as, 0),
		ROW(E_BADCAP, SYS_THREAD_CONFIGURE, e->th, 0, 0, H | e->ep),
		ROW(E_BADCAP, SYS_THREAD_BIND_NOTIFICATION, e->th, H | e->n),
	};
	return run_rows(rows, sizeof(rows) / sizeof(rows[0]), e);
}

/* Address space, interrupt and console calls. */
static bool device_rows(const struct env *e)
{
	const cptr_t C = ROOT_CNODE, I = ROOT_IRQ_CONTROL, d = e->d, as = e->as;
	const uint64_t RW = R_READ | R_WRITE, va = 0x50000000;
	const struct row rows[] = {
		/* map: rights, address, frame */
		ROW(E_OK, SYS_AS_MAP, as, e->f, TOP_VA, R_READ | R_WRITE | R_EXEC),
		ROW(E_INVAL, SYS_AS_MAP, as, e->f, va, R_READ | R_GRANT),
		ROW(E_INVAL, SYS_AS_MAP, as, e->f, va, R_WRITE),
		ROW(E_INVAL, SYS_AS_MAP, as, e->f, va, H | R_READ),
		ROW(E_INVAL, SYS_AS_MAP, as, e->f, va, T | R_READ),
		ROW(E_INVAL, SYS_AS_MAP, as, e->f, va, A),
		ROW(E_RANGE, SYS_AS_MAP, as, e->f, TOP_VA + PAGE_SIZE_U, R_READ),
		ROW(E_RANGE, SYS_AS_MAP, as, e->f, T | va, R_READ),
		ROW(E_RANGE, SYS_AS_MAP, as, e->f, A & ~(PAGE_SIZE_U - 1), R_READ),
		ROW(E_ALIGN, SYS_AS_MAP, as, e->f, va + 1, R_READ),
		ROW(E_ALIGN, SYS_AS_MAP, as, e->f, A, R_READ),
		ROW(E_BADCAP, SYS_AS_MAP, as, H | e->f, va, R_READ),
		ROW(E_BUSY, SYS_AS_MAP, as, e->fm, va, R_READ),
		/* protect, unmap */
		ROW(E_OK, SYS_AS_PROTECT, as, e->fm, RW),
		ROW(E_INVAL, SYS_AS_PROTECT, as, e->fm, RW | R_GRANT),
		ROW(E_INVAL, SYS_AS_PROTECT, as, e->fm, H | RW),
		ROW(E_INVAL, SYS_AS_PROTECT, as, e->fm, T | RW),
		ROW(E_INVAL, SYS_AS_PROTECT, as, e->fm, A),
		ROW(E_BADCAP, SYS_AS_PROTECT, as, H | e->fm, RW),
		ROW(E_BADCAP, SYS_AS_UNMAP, as, H | e->fm),
		/* IRQ_GET: lines the GIC does not have, or not for user space */
		ROW(E_OK, SYS_IRQ_GET, I, 40, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 0, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, UARCH_IRQ_KERNEL, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 1020, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 1023, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 1056, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 1087, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, IRQ_SOFT_TIMER + IRQ_SOFT_TIMERS, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, H | 40, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, T | 40, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, A, C, d),
		ROW(E_RANGE, SYS_IRQ_GET, I, 40, C, H | d),
		/* console: the length in the info register */
		{ __LINE__, SYS_DEBUG_WRITE, ROOT_CONSOLE, { 0 }, MSG_WORDS * 8, E_OK },
		{ __LINE__, SYS_DEBUG_WRITE, ROOT_CONSOLE, { 0 }, MSG_WORDS * 8 + 1, E_RANGE },
		{ __LINE__, SYS_DEBUG_WRITE, ROOT_CONSOLE, { 0 }, H | 1, E_RANGE },
		{ __LINE__, SYS_DEBUG_WRITE, ROOT_CONSOLE, { 0 }, T | 1, E_RANGE },
		{ __LINE__, SYS_DEBUG_WRITE, ROOT_CONSOLE, { 0 }, A, E_RANGE },
	};
	return run_rows(rows, sizeof(rows) / sizeof(rows[0]), e);
}

static bool t_arg_boundaries(void)
{
	struct accounts before = accounts_read();
	struct env e;
	CHECK(env_make(&e));
	bool ok = cap_rows(&e);
	ok = device_rows(&e) && ok;
	env_free(&e);
	CHECK(ok);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
ROOT_TEST("arg-boundaries", t_arg_boundaries);

/* IRQ_GET takes exactly the PPIs and SPIs the GIC has: the SPIs that work
 * are one run from 32 to GICD_TYPER's count (a multiple of 32, at most
 * 1020); above it, up to the kernel's table end, every line is refused
 * but the soft timer lines. */
static bool t_irq_lines(void)
{
	cptr_t d = slot_alloc();
	unsigned n = 32;
	CHECK(d);
	for (unsigned irq = 0; irq < 16; irq++)
		CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, irq, ROOT_CNODE, d), E_RANGE);
	while (n < 1100 && INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, n, ROOT_CNODE, d) == E_OK)
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, d), n++;
	printf("root: IRQ_GET takes SPIs 32-%u\n", n - 1);
	CHECK(n > 40 && n % 32 == 0 && n <= 1020);
	for (unsigned irq = n; irq < 1100; irq++) {
		bool soft = irq - IRQ_SOFT_TIMER < IRQ_SOFT_TIMERS;
		CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, irq, ROOT_CNODE, d),
			  soft ? E_OK : E_RANGE);
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, d);
	}
	slot_free(d);
	return true;
}
ROOT_TEST_NEEDS("irq-lines", t_irq_lines, UARCH_IS_AARCH64); /* the GIC's lines */

/* A copy of a mapped frame is not mapped: identify and FRAME_INFO both say
 * ~0 for it, and for the original once it is unmapped. */
static bool t_identify_frame_copy(void)
{
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K), c = slot_alloc();
	const uint64_t va = 0x3e000000;
	uint64_t r[5];
	CHECK(f && c);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_READ), E_OK);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, c, ROOT_CNODE, f, R_ALL), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, f, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_FRAME && r[2] == va);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, c, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[0] == OBJ_FRAME && r[2] == ~0ull);
	CHECK_ERR(inv(SYS_FRAME_INFO, c, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] == ~0ull);
	CHECK_ERR(INV1(SYS_AS_UNMAP, ROOT_ASPACE, f), E_OK);
	CHECK_ERR(inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, f, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[2] == ~0ull);
	slot_free(c), slot_free(f);
	return true;
}
ROOT_TEST("identify-frame-copy", t_identify_frame_copy);

/* Writes CPU-global PMU registers (each value the one the kernel set, so
 * a kernel that lets them through changes nothing), then reads the cycle
 * counter, then makes an unknown system call. */
static void child_pmu(uint64_t unused)
{
	(void)unused;
#ifdef __aarch64__ /* the test runs only there (UARCH_IS_AARCH64) */
	__asm__ volatile("msr pmcr_el0, %0" : : "r"(1ull));
	__asm__ volatile("msr pmselr_el0, %0" : : "r"(31ull));
	__asm__ volatile("msr pmxevtyper_el0, %0" : : "r"(1ull << 27));
	__asm__ volatile("msr pmcntenset_el0, %0" : : "r"(0ull));
#endif
	(void)cycles();
	struct sysregs r = { .nr = 200 };
	sys(&r);
	child_park();
}

/* EL0 may read the cycle counter but not program the PMU: each write
 * reaches the fault endpoint as FAULT_UNDEFINED (EC 0x18, a trapped
 * system register access); the read does not fault. */
static bool t_pmu_read_only(void)
{
	struct child c;
	cptr_t fep = new_obj(OBJ_ENDPOINT, 0);
	CHECK(fep);
	CHECK_ERR(child_create(&c, child_pmu, 0, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, c.thread, 0, 0, fep), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	struct sysregs r = { .nr = SYS_RECV, .cap = fep };
	CHECK_ERR(sys(&r), E_OK);
	for (unsigned i = 0; i < 4; i++) {
		CHECK(msginfo_label(r.info) == FAULT_UNDEFINED && r.mr[2] >> 26 == 0x18);
		r = (struct sysregs){ .nr = SYS_REPLY_RECV, .cap = fep, .mr = { 1, r.mr[1] + 4 },
				      .info = msginfo(0, 2, 0) };
		CHECK_ERR(sys(&r), E_OK);
	}
	CHECK(msginfo_label(r.info) == FAULT_SYSCALL && r.mr[0] == 200);
	r = (struct sysregs){ .nr = SYS_REPLY, .info = msginfo(0, 0, 0) };
	CHECK_ERR(sys(&r), E_OK);
	child_destroy(&c);
	slot_free(fep);
	return true;
}
ROOT_TEST_NEEDS("pmu-el0-read-only", t_pmu_read_only, UARCH_IS_AARCH64);

/* AS_GUEST_FENCE on every port: its arguments are checked the same way
 * (one or both bits, the whole register; the write right), and a port
 * without it answers E_NOSYS (AArch64, whose guests' TLBIs are broadcast
 * by HCR_EL2.FB; x86_64, whose guests have no SBI to ask for it); riscv64
 * does it (tests_vm_riscv64.c). */
static bool t_guest_fence_args(void)
{
	cptr_t as = new_obj(OBJ_ASPACE, 0), ro = slot_alloc();
	CHECK(as && ro);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, as, R_READ), E_OK);
	err_t want = UARCH_FEATURES & UARCH_HAS_GUEST_SBI ? E_OK : E_NOSYS;
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, GUEST_FENCE_TLB | GUEST_FENCE_ICACHE), want);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, 0), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, 1ull << 63 | GUEST_FENCE_TLB), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, ro, GUEST_FENCE_TLB), E_RIGHTS);
	slot_free(ro);
	slot_free(as);
	return true;
}
ROOT_TEST("as-guest-fence-args", t_guest_fence_args);
