/* Guests: the test guest (guests/test) run under a VMM in this task, one
 * kind of exit per test, each checked from both sides, and each leaving
 * the accounts where they were. */
#include "guests/test/guest.h"
#include "servers/root/check.h"
#include "servers/root/suite.h"
#include "servers/root/spawn.h"
#include "servers/vmm/virtio_mmio.h"
#include "servers/vmm/vm.h"

extern const char guest_test_image[], guest_test_image_end[];
#define GUEST_PRIO ROOT_PRIO /* the VMM's own: the guest runs while it waits */

/* What the VMM saw of one guest run. */
struct run {
	struct vm vm;
	cptr_t ep;
	uint64_t result;
	uint64_t writes[8];          /* test-device writes, in order */
	unsigned nwrites;
	uint64_t last_abort_ipa, sysreg_enc, sysreg_val;
	uint64_t exits;
	bool (*on_sync)(struct run *r, uint64_t step);
	bool (*on_insn_abort)(struct run *r, const struct vm_exit *x); /* true: run it again */
	int done;                    /* served by another thread: 1 passed, 2 failed */
	unsigned rings;              /* writes to TDEV_DOORBELL that exited */
	unsigned claims;             /* reads of TDEV_CLAIM (riscv64's interrupts) */
	unsigned status_exits;       /* accesses to TDEV_STATUS and its acknowledge */
	struct vdev *vdev[2];        /* virtio devices, or NULL */
};

/* Make guest test t's VM (vm_start starts it); run_end cleans up after it,
 * whether it was made or not. */
static bool run_start_vm(struct run *r, unsigned vm, enum guest_test t, uint64_t a1,
			 uint64_t a2, unsigned cpu)
{
	*r = (struct run){ .result = 0 };
	CHECK((r->ep = new_obj(OBJ_ENDPOINT, 0)));
	CHECK_ERR(vm_create(&r->vm, vm, r->ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, guest_test_image,
			    (uint64_t)(guest_test_image_end - guest_test_image)), E_OK);
	CHECK_ERR(vm_add_vcpu(&r->vm, GUEST_RAM_IPA, t, a1, a2, cpu, GUEST_PRIO), E_OK);
	return true;
}

static bool run_start(struct run *r, enum guest_test t, uint64_t a1, uint64_t a2, unsigned cpu)
{
	return run_start_vm(r, 1, t, a1, a2, cpu);
}

static void run_end(struct run *r)
{
	vm_destroy(&r->vm);
	if (r->ep)
		slot_free(r->ep);
	r->ep = 0;
}

/* ldp Xt, Xt2, [Xn]: the registers it loads. */
static bool emulate_ldp(struct run *r, const struct vm_exit *x)
{
	uint64_t off = x->w[1] - GUEST_RAM_IPA;
	if (off >= GUEST_RAM_SIZE)
		return false;
	uint32_t insn = *(const uint32_t *)(r->vm.ram_va + off);
	if (x->w[4] != insn || (insn & 0xffc00000u) != 0xa9400000u)
		return false;
	cptr_t v = r->vm.v[vm_exit_vcpu(x)].vcpu;
	return !INV2(SYS_VCPU_WRITE_REG, v, insn & 31, TDEV_PATTERN) &&
	       !INV2(SYS_VCPU_WRITE_REG, v, (insn >> 10) & 31, ~TDEV_PATTERN);
}

/* The test device; false when the guest is done (its RESULT). */
static bool tdev(struct run *r, const struct vm_exit *x, uint64_t *reply)
{
	uint64_t off = x->w[0] - TDEV_IPA, acc = x->w[3];
	reply[0] = VMREPLY_ADVANCE;
	if (!(acc & VMACC_VALID)) {
		if (!emulate_ldp(r, x))
			reply[0] = VMREPLY_ABORT;
	} else if (!(acc & VMACC_WRITE)) {
		uint64_t claim[5] = { 0 }; /* riscv64's guest claims its interrupts here */
		if (off == TDEV_CLAIM && ++r->claims)
			inv(SYS_VCPU_READ_REG, r->vm.v[vm_exit_vcpu(x)].vcpu, VREG_RV_CLAIM, 0, 0, 0,
			    0, 0, claim);
		reply[0] |= VMREPLY_READ;
		reply[1] = off == TDEV_DATA ? TDEV_PATTERN : claim[0];
		r->status_exits += off == TDEV_STATUS;
	} else if (off == TDEV_RESULT) {
		r->result = x->w[4];
		return false;
	} else if (off == TDEV_SYNC) {
		if (r->on_sync && !r->on_sync(r, x->w[4]))
			reply[0] = VMREPLY_ABORT;
	} else if (off == TDEV_DOORBELL) {
		r->rings++;
	} else if (off == TDEV_STATUS + 4) {
		r->status_exits++;
	} else if (off == TDEV_DATA && r->nwrites < 8) {
		r->writes[r->nwrites++] = (acc & VMACC_SIZE_MASK) << 60 | x->w[4];
	}
	return true;
}

/* ICC_SGI1R_EL1: op0 3, op1 0, CRn 12, CRm 11, op2 5, as ESR encodes it. */
#define ISS_ICC_SGI1R (3u << 20 | 5u << 17 | 0u << 14 | 12u << 10 | 11u << 1)

/* PSCI CPU_ON (x1 target, x2 entry, x3 context): VCPU 1 once. */
static bool cpu_on(struct run *r, const struct vm_exit *x)
{
	if (x->w[3] != 1 || r->vm.nvcpus != 1)
		return false;
	return !vm_add_vcpu(&r->vm, x->w[4], x->w[5], 0, 0, 1 % bootinfo->ncpus, GUEST_PRIO) &&
	       !vm_start(&r->vm, 1);
}

/* A riscv64 guest's SBI call (vm_sbi); its hart_start makes VCPU 1 here,
 * as cpu_on does. */
static bool sbi_exit(struct run *r, const struct vm_exit *x, uint64_t *reply)
{
	enum vm_sbi k = vm_sbi(&r->vm, x, reply);
	if (k == VM_SBI_HART_START) {
		unsigned i = (unsigned)reply[2];
		reply[1] = vm_add_vcpu(&r->vm, reply[3], i, reply[4], 0, i % bootinfo->ncpus,
				       GUEST_PRIO) || vm_start(&r->vm, i) ? (uint64_t)-1 : 0;
		reply[2] = 0;
	}
	return k == VM_SBI_DONE || k == VM_SBI_HART_START;
}

/* Answer one exit the way a VMM for the test guest does; false when the
 * guest has reported its result. */
static bool vmm_exit(struct run *r, const struct vm_exit *x, uint64_t *reply)
{
	reply[0] = VMREPLY_ADVANCE;
	r->exits++;
	switch (x->label) {
	case VMEXIT_DATA_ABORT: {
		uint64_t val = x->w[4];
		if (x->w[0] >= TDEV_IPA && x->w[0] < TDEV_IPA + PAGE_SIZE_U)
			return tdev(r, x, reply);
		for (unsigned i = 0; i < 2 && (x->w[3] & VMACC_VALID) && r->vdev[i]; i++)
			if (vdev_mmio(r->vdev[i], x->w[0], x->w[3], &val)) {
				if (!(x->w[3] & VMACC_WRITE))
					reply[0] |= VMREPLY_READ, reply[1] = val;
				return true;
			}
		r->last_abort_ipa = x->w[0];
		reply[0] = VMREPLY_ABORT; /* nothing there: the guest gets an abort */
		return true;
	}
	case VMEXIT_HVC:
	case VMEXIT_SMC:
		if (sbi_exit(r, x, reply)) { /* riscv64's ecalls */
		} else if (x->w[0] == PSCI_VERSION) {
			reply[0] |= VMREPLY_REGS;
			reply[1] = VMM_PSCI_VERSION;
		} else if (x->w[0] == PSCI_CPU_ON) {
			reply[0] |= VMREPLY_REGS;
			reply[1] = cpu_on(r, x) ? 0 : (uint64_t)-4; /* ALREADY_ON */
			reply[2] = x->w[3], reply[3] = x->w[4], reply[4] = x->w[5];
		} else {
			reply[0] = VMREPLY_ABORT;
		}
		return true;
	case VMEXIT_INSN_ABORT:
		if (!r->on_insn_abort || !r->on_insn_abort(r, x))
			reply[0] = VMREPLY_ABORT;
		else
			reply[0] = 0; /* the fetch again */
		return true;
	case VMEXIT_SYSREG:
		r->sysreg_enc = x->w[0];
		r->sysreg_val = x->w[4];
		if (x->w[0] == ISS_ICC_SGI1R) /* target list: aff0 bits */
			for (unsigned i = 0; i < r->vm.nvcpus; i++)
				if (x->w[4] >> i & 1)
					INV1(SYS_VCPU_INJECT, r->vm.v[i].vcpu, x->w[4] >> 24 & 15);
		return true;
	default:
		reply[0] = VMREPLY_ABORT;
		return true;
	}
}

/* Serve the guest until it reports; its result must be TEST_PASS. */
static bool serve(struct run *r)
{
	struct vm_exit x;
	uint64_t reply[5] = { 0 };
	CHECK_ERR(vm_wait(r->ep, &x), E_OK);
	while (vmm_exit(r, &x, reply))
		CHECK_ERR(vm_reply_wait(r->ep, reply, &x), E_OK);
	if (r->result != TEST_PASS)
		printf("root: guest result 0x%lx (line %lu)\n", r->result, r->result / 16);
	return r->result == TEST_PASS;
}

/* Run guest test t to its result under the default VMM, and check that
 * creating and destroying the VM left every account where it was. */
static bool guest_test(enum guest_test t, struct run *r, bool (*on_sync)(struct run *, uint64_t))
{
	struct accounts before = accounts_read();
	bool ok = run_start(r, t, 0, 0, 0) && vm_start(&r->vm, 0) == E_OK;
	r->on_sync = on_sync;
	ok = ok && serve(r);
	run_end(r);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}

static bool t_vm_mmio(void)
{
	struct run r;
	CHECK(guest_test(GT_MMIO, &r, NULL));
	static const uint64_t want[] = { 0ull << 60 | 0x11, 1ull << 60 | 0x2233,
					 2ull << 60 | 0x44556677, 3ull << 60 | 0x8899aabbccddeeff,
					 3ull << 60 | 0 };
	CHECK(r.nwrites == 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK(r.writes[i] == want[i]);
	return true;
}
ROOT_TEST_NEEDS("vm-mmio", t_vm_mmio, BOOT_HAS_VCPU);

static bool t_vm_hvc_smc(void)
{
	struct run r;
	return guest_test(GT_HVC_SMC, &r, NULL);
}
ROOT_TEST_NEEDS("vm-hvc-smc", t_vm_hvc_smc, BOOT_HAS_VCPU);

/* The kernel counts a guest's exits by kind (SYS_STATS_THREAD): the HVC
 * test makes two HVCs (PSCI to the VMM, one in Cairn's range the kernel
 * answers) and an SMC, and reports with one write to the device; every
 * exit the VMM saw was a message its thread sent. */
static bool t_vm_exit_counts(void)
{
	struct accounts before = accounts_read();
	struct run r;
	uint64_t z[5], p0[5], p1[5], p2[5], p3[5];
	const char *name = "vm-exit-counts";
	bool ok = run_start(&r, GT_HVC_SMC, 0, 0, 0) &&
		  stats_set_name(r.vm.v[0].thread, name) == E_OK &&
		  stats_named(name, STATS_IPC, z) && vm_start(&r.vm, 0) == E_OK && serve(&r) &&
		  stats_named(name, STATS_SCHED, p0) && stats_named(name, STATS_IPC, p1) &&
		  stats_named(name, STATS_EXITS, p2) && stats_named(name, STATS_EXITS2, p3);
	run_end(&r);
	CHECK(ok);
	CHECK(z[1] == 0 && z[2] == 0 && z[3] == 0); /* a new VCPU, not yet run */
	CHECK(p0[4] & STATS_VCPU);
	CHECK(p2[1] == 1 && p2[2] == 3 && p3[1] == 0);
	CHECK(p1[2] == p2[1] + p2[2] + p2[3] + p2[4] + p3[1]);
	CHECK(p1[1] == r.exits);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-exit-counts", t_vm_exit_counts, BOOT_HAS_VCPU);

static bool t_vm_timer(void)
{
	struct run r;
	CHECK(guest_test(GT_TIMER, &r, NULL));
	/* WFI and the timer are the kernel's: no exit reached the VMM but
	 * the final report. */
	CHECK(r.exits == 1);
	return true;
}
ROOT_TEST_NEEDS("vm-timer-wfi", t_vm_timer, BOOT_HAS_VCPU | UARCH_HAS_VTIMER);

static bool inject_all(struct run *r, uint64_t step)
{
	(void)step;
	for (unsigned i = 0; i < GT_INJECT_COUNT; i++)
		if (INV1(SYS_VCPU_INJECT, r->vm.v[0].vcpu, GT_INJECT_FIRST + i))
			return false;
	return true;
}

static bool t_vm_inject(void)
{
	struct run r;
	return guest_test(GT_INJECT, &r, inject_all);
}
ROOT_TEST_NEEDS("vm-inject-beyond-lrs", t_vm_inject, BOOT_HAS_VCPU);

static bool disabled_steps(struct run *r, uint64_t step)
{
	cptr_t v = r->vm.v[0].vcpu;
	if (step == 1)
		return !INV2(SYS_VCPU_SET_VIRQ, v, 41, 0) && !INV1(SYS_VCPU_INJECT, v, 41) &&
		       !INV1(SYS_VCPU_INJECT, v, 40);
	return !INV2(SYS_VCPU_SET_VIRQ, v, 41, 1);
}

static bool t_vm_disabled(void)
{
	struct run r;
	return guest_test(GT_DISABLED, &r, disabled_steps);
}
ROOT_TEST_NEEDS("vm-pending-while-disabled", t_vm_disabled, BOOT_HAS_VCPU);

static bool t_vm_abort(void)
{
	struct run r;
	CHECK(guest_test(GT_ABORT, &r, NULL));
	CHECK(r.last_abort_ipa == OUTSIDE_RAM_IPA);
	return true;
}
ROOT_TEST_NEEDS("vm-abort-outside-ram", t_vm_abort, BOOT_HAS_VCPU);

static bool t_vm_no_syndrome(void)
{
	struct run r;
	return guest_test(GT_NO_SYNDROME, &r, NULL);
}
ROOT_TEST_NEEDS("vm-mmio-no-syndrome", t_vm_no_syndrome, BOOT_HAS_VCPU | UARCH_IS_AARCH64);

static bool t_vm_sysreg(void)
{
	struct run r;
	CHECK(guest_test(GT_SYSREG, &r, NULL));
	CHECK(r.sysreg_enc == ISS_ICC_SGI1R);
	CHECK(r.sysreg_val == (0x1234ull << 16 | 1));
	return true;
}
ROOT_TEST_NEEDS("vm-sysreg-sgi", t_vm_sysreg, BOOT_HAS_VCPU | UARCH_IS_AARCH64);

#ifndef UARCH_VREG_PARKED
#define UARCH_VREG_PARKED VREG_TPIDR_EL1
#endif

/* The guest's EL1 state stays in its CPU's registers while it waits (it is
 * parked): read and written here, from CPU 0, it must be fetched from the
 * guest's CPU, the last one. */
static bool parked_steps(struct run *r, uint64_t step)
{
	uint64_t out[8] = { 0 };
	cptr_t v = r->vm.v[0].vcpu;
	if (inv(SYS_VCPU_READ_REG, v, UARCH_VREG_PARKED, 0, 0, 0, 0, 0, out) ||
	    out[0] != PARKED_MINE + step) {
		printf("root: parked TPIDR_EL1 read 0x%lx at step %lu\n", out[0], step);
		return false;
	}
	return !INV2(SYS_VCPU_WRITE_REG, v, UARCH_VREG_PARKED, PARKED_VMMS + step);
}

static bool t_vm_parked(void)
{
	struct run r;
	struct accounts before = accounts_read();
	bool ok = run_start(&r, GT_PARKED, 0, 0, bootinfo->ncpus - 1) &&
		  vm_start(&r.vm, 0) == E_OK;
	r.on_sync = parked_steps;
	ok = ok && serve(&r);
	run_end(&r);
	CHECK(ok);
	CHECK(r.last_abort_ipa == OUTSIDE_RAM_IPA);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-parked-state", t_vm_parked, BOOT_HAS_VCPU);

/* Two VMMs fetch at once, each from the other's CPU: VM a's VCPU on CPU 1
 * served from CPU 0, VM b's on CPU 0 served from CPU 1 by a second thread
 * of this task.  Each waits for the other CPU with the lock dropped, and
 * must serve the other's request meanwhile, or both wait for ever. */
#define CROSSED_EXITS 300

static void crossed_vmm(uint64_t arg)
{
	struct run *r = (struct run *)arg;
	__atomic_store_n(&r->done, serve(r) ? 1 : 2, __ATOMIC_RELEASE);
	for (;;) /* root deletes this thread */
		INV0(SYS_YIELD, 0);
}

static bool t_vm_parked_crossed(void)
{
	struct run a = { 0 }, b = { 0 };
	struct accounts before = accounts_read();
	unsigned other = 1 % bootinfo->ncpus;
	cptr_t th = new_obj(OBJ_THREAD, 0), cs = slot_alloc(), stack;
	char *sp = new_page(&stack);
	/* this task's CSpace, guarded as its own root is, for the second thread */
	bool ok = th && cs && sp &&
		  !inv(SYS_CNODE_MINT, ROOT_CNODE, cs, ROOT_CNODE, ROOT_CNODE, R_ALL, 0,
		       64 - bootinfo->cnode_bits, 0) &&
		  run_start(&a, GT_PARKED, CROSSED_EXITS, 0, other) &&
		  run_start_vm(&b, 2, GT_PARKED, CROSSED_EXITS, 0, 0);
	a.on_sync = b.on_sync = parked_steps;
	ok = ok && !INV3(SYS_THREAD_CONFIGURE, th, cs, ROOT_ASPACE, 0) &&
	     !INV4(SYS_THREAD_WRITE_REGS, th, (uint64_t)crossed_vmm, (uint64_t)sp + 4096,
		   (uint64_t)&b, 0) &&
	     !INV2(SYS_THREAD_SET_PRIORITY, th, ROOT_PRIO, ROOT_PRIO) &&
	     !INV1(SYS_THREAD_SET_AFFINITY, th, other) && !INV0(SYS_THREAD_RESUME, th) &&
	     vm_start(&a.vm, 0) == E_OK && vm_start(&b.vm, 0) == E_OK;
	ok = ok && serve(&a);
	while (ok && !__atomic_load_n(&b.done, __ATOMIC_ACQUIRE))
		INV0(SYS_YIELD, 0);
	ok = ok && b.done == 1 && a.last_abort_ipa == OUTSIDE_RAM_IPA &&
	     b.last_abort_ipa == OUTSIDE_RAM_IPA;
	slot_free(th);
	slot_free(cs);
	slot_free(stack);
	run_end(&a);
	run_end(&b);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-parked-fetch-crossed", t_vm_parked_crossed, BOOT_HAS_VCPU);

/* --- Doorbells: a write that signals a notification, with no exit --------- */

#define RINGS 50
static cptr_t db_ntfn;

/* Step 1: bind (the rings that follow never reach this VMM); step 2: the
 * notification holds the bits, then unbind (the rings exit again); 3: the
 * VMM saw RINGS of them. */
static bool doorbell_steps(struct run *r, uint64_t step)
{
	uint64_t out[5] = { 0 };
	struct sysregs w = { .nr = SYS_POLL, .cap = db_ntfn };
	if (step == 1)
		return !INV3(SYS_AS_BIND_DOORBELL, r->vm.as, TDEV_IPA + TDEV_DOORBELL, db_ntfn, 4) &&
		       r->rings == 0;
	if (step == 2)
		return sys(&w) == E_OK && w.cap == 4 && r->rings == 0 &&
		       !inv(SYS_AS_BIND_DOORBELL, r->vm.as, TDEV_IPA + TDEV_DOORBELL, 0, 0, 0, 0, 0,
			    out);
	return sys(&w) == E_OK && w.cap == 0 && r->rings == RINGS;
}

static bool t_vm_doorbell(void)
{
	struct run r;
	struct accounts before = accounts_read();
	CHECK((db_ntfn = new_obj(OBJ_NOTIFICATION, 0)));
	bool ok = run_start(&r, GT_DOORBELL, RINGS, 0, 0) && vm_start(&r.vm, 0) == E_OK;
	r.on_sync = doorbell_steps;
	ok = ok && serve(&r);
	run_end(&r);
	slot_free(db_ntfn);
	CHECK(ok);
	CHECK(r.rings == RINGS); /* the second lot exited, the first did not */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-doorbell", t_vm_doorbell, BOOT_HAS_VCPU);

static bool t_vm_doorbell_errors(void)
{
	struct accounts before = accounts_read();
	cptr_t as = new_obj(OBJ_ASPACE, 0), n = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK(as && n && ep);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1002, n, 1), E_ALIGN);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 1ull << 40, n, 1), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 1ull << 63 | 0x1000, n, 1), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1000, n, 0), E_INVAL);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1000, ep, 1), E_BADTYPE);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, n, 0x1000, n, 1), E_BADTYPE);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1000, 0, 1), E_NOENT); /* nothing to unbind */
	for (uint64_t i = 0; i < 4; i++)
		CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1000 + 4 * i, n, 1), E_OK);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1000, n, 1), E_BUSY);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x2000, n, 1), E_FULL);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1004, 0, 0), E_OK);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x2000, n, 1), E_OK);
	slot_free(n);  /* still referenced by the space: freed with it */
	slot_free(as);
	slot_free(ep);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-doorbell-errors", t_vm_doorbell_errors, BOOT_HAS_VCPU);

/* --- Status registers: reads and acknowledgements with no exit ----------- */

static cptr_t st_frame;
static volatile uint32_t *st_word;

/* Step 1: bind, the word 0xa5; 2: the guest's acknowledgement cleared 5
 * with no exit, its 64-bit read exited; 3: the word cleared, unbind; 4:
 * two more exits. */
static bool status_steps(struct run *r, uint64_t step)
{
	bool ok;
	switch (step) {
	case 1:
		*st_word = 0xa5;
		return !INV3(SYS_AS_BIND_STATUS, r->vm.as, TDEV_IPA + TDEV_STATUS, st_frame, 8) &&
		       r->status_exits == 0;
	case 2:
		ok = *st_word == 0xa0 && r->status_exits == 1;
		*st_word = 0x5a5a0000;
		return ok;
	case 3:
		return *st_word == 0 && r->status_exits == 1 &&
		       !INV3(SYS_AS_BIND_STATUS, r->vm.as, TDEV_IPA + TDEV_STATUS, 0, 0);
	default:
		return r->status_exits == 3;
	}
}

static bool t_vm_status_reg(void)
{
	struct run r;
	struct accounts before = accounts_read();
	uint8_t *page = new_page(&st_frame);
	CHECK(page);
	st_word = (volatile uint32_t *)(page + 8);
	bool ok = run_start(&r, GT_STATUS, 0, 0, 0) && vm_start(&r.vm, 0) == E_OK;
	r.on_sync = status_steps;
	ok = ok && serve(&r);
	run_end(&r);
	INV1(SYS_AS_UNMAP, ROOT_ASPACE, st_frame);
	slot_free(st_frame);
	CHECK(ok);
	CHECK(r.result == TEST_PASS);
	CHECK(r.status_exits == 3);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-status-reg", t_vm_status_reg, BOOT_HAS_VCPU);

static bool t_vm_status_reg_errors(void)
{
	struct accounts before = accounts_read();
	cptr_t as = new_obj(OBJ_ASPACE, 0), f = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), ro = slot_alloc();
	CHECK(as && f && n && ro);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_READ), E_OK);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1004, f, 0), E_ALIGN); /* pairs 8-aligned */
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, f, 2), E_ALIGN);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 1ull << 40, f, 0), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 1ull << 63 | 0x1000, f, 0), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, f, 4096), E_RANGE);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, f, 1ull << 32), E_RANGE); /* checked whole */
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, n, 0), E_BADTYPE);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, f, 0x1000, f, 0), E_BADTYPE);
	if (bootinfo->ndev) /* a device's registers: the kernel reads and writes memory only */
		CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, bootinfo->dev[0].first_slot, 0),
			  E_BADTYPE);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, ro, 0), E_RIGHTS); /* the kernel writes it */
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000, 0, 0), E_NOENT);  /* nothing to unbind */
	for (uint64_t i = 0; i < 2; i++)
		CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1000 + 8 * i, f, 4 * i), E_OK);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1008, f, 0), E_BUSY);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x2000, f, 0), E_FULL);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1004, 0, 0), E_ALIGN);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1008, 0, 0), E_OK);
	/* one address, one meaning: a doorbell on an acknowledge, and back */
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x1004, n, 1), E_BUSY);
	CHECK_ERR(INV3(SYS_AS_BIND_DOORBELL, as, 0x100c, n, 1), E_OK);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x1008, f, 0), E_BUSY);
	CHECK_ERR(INV3(SYS_AS_BIND_STATUS, as, 0x2000, f, 0), E_OK);
	slot_free(ro);
	slot_free(f);  /* still referenced by the space: freed with it */
	slot_free(n);
	slot_free(as);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-status-reg-errors", t_vm_status_reg_errors, BOOT_HAS_VCPU);

/* --- Virtio: a lying driver against the block server ---------------------- */


/* The block server started as the Linux VMM's is, and a test guest whose
 * driver sends it vfuzz.requests (default 2,000; the vm-virtio-fuzz
 * scenario: 100,000) requests, half of them lies (guests/test/
 * vfuzz.c).  The server must answer every good one correctly, refuse the
 * lies without touching memory outside the guest's (it has nothing else of
 * the guest's mapped: a stray access would kill it, and the next good
 * request would never complete), and every byte comes back after. */
static bool t_vm_virtio_fuzz(void)
{
	extern const char blk_image[];
	struct accounts before = accounts_read();
	struct server blk;
	struct vdev d = { .base = VFUZZ_IPA };
	struct run r = { 0 };
	uint64_t info[5] = { 1 };
	uint64_t n = bootarg_u64("vfuzz.requests=", 2000);
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), kick = new_obj(OBJ_NOTIFICATION, 0);
	bool ok = n >= 2 && n < (1u << 20) && ep && kick &&
		  !server_create(&blk, blk_image, 24ull << 20, ROOT_PRIO) &&
		  !server_give(&blk, VDEV_SLOT_EP, ep, R_READ) &&
		  !server_give(&blk, VDEV_SLOT_KICK, kick, R_READ | R_WRITE) && !server_start(&blk) &&
		  /* it can claim no interrupt line: no IRQ control in its CNode */
		  !inv(SYS_CNODE_IDENTIFY, blk.cnode, ROOT_IRQ_CONTROL, 0, 0, 0, 0, 0, info) &&
		  info[0] == OBJ_NULL &&
		  run_start(&r, GT_VFUZZ, n, 0, 0) &&
		  !vdev_connect(&d, &r.vm, 0, 48, ep, kick, true) && vm_start(&r.vm, 0) == E_OK;
	r.vdev[0] = &d;
	ok = ok && serve(&r);
	uint64_t w = r.writes[0] & ~(0xfull << 60); /* tdev keeps the size on top */
	uint64_t good = w >> 40, answered = w >> 20 & 0xfffff, refused = w & 0xfffff;
	uint64_t served = d.sh ? d.sh->requests : 0;
	printf("root: virtio fuzz: %lu good requests checked; of the lies %lu answered (error "
	       "status or harmless), %lu refused (device reset); %lu requests served, %lu "
	       "notifications through the VMM\n", good, answered, refused, served,
	       d.notify_exits);
	run_end(&r);
	vdev_release(&d);
	server_destroy(&blk);
	slot_free(ep);
	slot_free(kick);
	CHECK(ok);
	CHECK(good == n / 2 && answered + refused == n / 2);
	CHECK(served >= 2 * good + answered && d.notify_exits == 0);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-virtio-fuzz", t_vm_virtio_fuzz, BOOT_HAS_VCPU);

/* The switch started as the Linux VMMs' is, and a test guest on two of its
 * ports whose driver plays vnetfuzz.rounds (default 2,000; the
 * vm-virtio-net-fuzz scenario: 100,000) rounds, half of them lies on one
 * port's transmit or the other's receive queue (guests/test/vnetfuzz.c).
 * Every good frame must arrive whole, every lie be answered or refused,
 * and every byte come back after. */
static bool t_vm_virtio_net_fuzz(void)
{
	extern const char net_image[];
	struct accounts before = accounts_read();
	struct server net;
	struct vdev d[2] = { { .base = VNETFUZZ_IPA }, { .base = VNETFUZZ_IPA + VNETFUZZ_STRIDE } };
	struct run r = { 0 };
	uint64_t n = bootarg_u64("vnetfuzz.rounds=", 2000);
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), kick = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t port[2] = { slot_alloc(), slot_alloc() };
	bool ok = n >= 4 && n < (1u << 20) && ep && kick && port[0] && port[1] &&
		  !server_create(&net, net_image, 16ull << 20, ROOT_PRIO) &&
		  !server_give(&net, VDEV_SLOT_EP, ep, R_READ) &&
		  !server_give(&net, VDEV_SLOT_KICK, kick, R_READ | R_WRITE) && !server_start(&net) &&
		  run_start(&r, GT_VNETFUZZ, n, 0, 0);
	for (unsigned i = 0; ok && i < 2; i++) /* ports 1 and 2: the badges */
		ok = !inv(SYS_CNODE_MINT, ROOT_CNODE, port[i], ROOT_CNODE, ep, R_WRITE | R_GRANT,
			  i + 1, 0, 0) &&
		     !vdev_connect(&d[i], &r.vm, 0, 48 + i, port[i], kick, true);
	ok = ok && vm_start(&r.vm, 0) == E_OK;
	r.vdev[0] = &d[0], r.vdev[1] = &d[1];
	ok = ok && serve(&r);
	uint64_t w = r.writes[0] & ~(0xfull << 60); /* tdev keeps the size on top */
	uint64_t good = w >> 40, answered = w >> 20 & 0xfffff, refused = w & 0xfffff;
	uint64_t served = (d[0].sh ? d[0].sh->requests : 0) + (d[1].sh ? d[1].sh->requests : 0);
	printf("root: virtio-net fuzz: %lu good frames checked; of the lies %lu answered, %lu "
	       "refused (port reset); %lu entries used, %lu notifications through the VMM\n",
	       good, answered, refused, served, d[0].notify_exits + d[1].notify_exits);
	run_end(&r);
	vdev_release(&d[0]);
	vdev_release(&d[1]);
	server_destroy(&net);
	for (unsigned i = 0; i < 2; i++)
		slot_free(port[i]);
	slot_free(ep);
	slot_free(kick);
	CHECK(ok);
	CHECK(good == (n + 1) / 2 && answered + refused == n / 2 && answered && refused);
	CHECK(served >= 2 * good && d[0].notify_exits + d[1].notify_exits == 0);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-virtio-net-fuzz", t_vm_virtio_net_fuzz, BOOT_HAS_VCPU);

/* --- Virtio: a lying VMM against the backend's set-up --------------------- */

/* A message from a client's VMM on its badged endpoint: a call, whose
 * answer is returned, or a send (`send`), whose delivery is. */
static err_t vdev_msg(cptr_t ep, uint64_t label, uint64_t ipa, uint64_t bytes, cptr_t c0,
		      cptr_t c1, bool send)
{
	struct sysregs r = { .mr = { ipa, bytes }, .nr = send ? SYS_SEND : SYS_CALL, .cap = ep,
			     .info = msginfo(label, 2, c1 ? 2 : c0 ? 1 : 0), .sendcap = { c0, c1 } };
	err_t e = sys(&r);
	return e || send ? e : (err_t)r.mr[0];
}

/* The block server and two clients' VMMs, client 1 lying about what it
 * sends (servers/lib/vdev_client.c): a 2 MiB frame for its shared page
 * (mapped, it would cover client 2's), a 4 KiB frame said to be 2 MiB of
 * its RAM (a hole the server would fault on), a forged wake-up (label
 * MSG_LABEL_NOTIFY) carrying a capability (left in the server's receive
 * slots, no client's capabilities could arrive again).  Each lie is
 * refused or harmless, and client 2 still sets up, and again. */
static bool t_vdev_lying_client(void)
{
	extern const char blk_image[];
	struct accounts before = accounts_read();
	struct server blk = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), kick = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t irq = new_obj(OBJ_NOTIFICATION, 0), c1 = slot_alloc(), c2 = slot_alloc();
	cptr_t page1 = new_obj(OBJ_FRAME, FRAME_BITS_4K), page2 = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	cptr_t big = new_obj(OBJ_FRAME, FRAME_BITS_2M), small = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	err_t e[7] = { 0 };
	bool made = ep && kick && irq && c1 && c2 && page1 && page2 && big && small &&
		    !inv(SYS_CNODE_MINT, ROOT_CNODE, c1, ROOT_CNODE, ep, R_WRITE | R_GRANT, 1, 0, 0) &&
		    !inv(SYS_CNODE_MINT, ROOT_CNODE, c2, ROOT_CNODE, ep, R_WRITE | R_GRANT, 2, 0, 0) &&
		    !server_create(&blk, blk_image, 24ull << 20, ROOT_PRIO) &&
		    !server_give(&blk, VDEV_SLOT_EP, ep, R_READ) &&
		    !server_give(&blk, VDEV_SLOT_KICK, kick, R_READ | R_WRITE) && !server_start(&blk);
	if (made) {
		e[0] = vdev_msg(c1, VDEV_SETUP, GUEST_RAM_IPA, 4 << 20, big, irq, false);
		e[1] = vdev_msg(c2, VDEV_SETUP, GUEST_RAM_IPA, 0, page2, irq, false);
		e[2] = vdev_msg(c1, VDEV_SETUP, GUEST_RAM_IPA, 4 << 20, page1, irq, false);
		e[3] = vdev_msg(c1, VDEV_GRANT, GUEST_RAM_IPA, 2 << 20, small, 0, false);
		e[4] = vdev_msg(c1, VDEV_GRANT, GUEST_RAM_IPA, 4096, small, 0, false);
		e[5] = vdev_msg(c1, MSG_LABEL_NOTIFY, 0, 0, big, 0, true);
		e[6] = vdev_msg(c2, VDEV_SETUP, GUEST_RAM_IPA, 0, page2, irq, false);
	}
	server_destroy(&blk);
	cptr_t all[] = { ep, kick, irq, c1, c2, page1, page2, big, small };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			slot_free(all[i]);
	CHECK(made);
	CHECK_ERR(e[0], E_INVAL); /* a 2 MiB shared page */
	CHECK_ERR(e[1], E_OK);    /* the other client's, where that one would be */
	CHECK_ERR(e[2], E_OK);
	CHECK_ERR(e[3], E_INVAL); /* 4 KiB said to be 2 MiB */
	CHECK_ERR(e[4], E_OK);    /* said to be what it is */
	CHECK_ERR(e[5], E_OK);    /* the forged wake-up was delivered... */
	CHECK_ERR(e[6], E_OK);    /* ...and its capability did not stay */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vdev-lying-client", t_vdev_lying_client, BOOT_HAS_VCPU);

/* --- Hypercalls: the guest calls a native server directly ---------------- */

/* Child code: answers every call with label + 1 and each word + 1. */
static void hc_server(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		unsigned len = msginfo_len(r.info);
		for (unsigned i = 0; i < len && i < MSG_WORDS; i++)
			r.mr[i]++;
		r.info = msginfo(msginfo_label(r.info) + 1, len, 0);
		r.nr = SYS_REPLY_RECV;
		r.cap = 1;
		sys(&r);
	}
}

/* A native server on `ep` for the guest's hypercalls. */
static bool hc_server_start(struct child *c, cptr_t ep, unsigned cpu)
{
	CHECK_ERR(child_create(c, hc_server, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_give(c, 1, ep, R_READ), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu), E_OK);
	return child_start(c) == E_OK;
}

static bool t_vm_hypercall(void)
{
	struct accounts before = accounts_read();
	struct run r;
	struct child server;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), n = new_obj(OBJ_NOTIFICATION, 0);
	CHECK(ep && n && hc_server_start(&server, ep, 0));
	bool ok = run_start(&r, GT_HYPERCALL, 0, 0, 0) &&
		  vm_give(&r.vm, 0, HC_EP_SLOT, ep, R_WRITE) == E_OK &&
		  vm_give(&r.vm, 0, HC_NTFN_SLOT, n, R_WRITE) == E_OK && vm_start(&r.vm, 0) == E_OK &&
		  serve(&r);
	struct sysregs p = { .nr = SYS_POLL, .cap = n };
	sys(&p);
	run_end(&r);
	child_destroy(&server);
	slot_free(ep);
	slot_free(n);
	CHECK(ok);
	CHECK(p.cap == 0x40); /* HC_SIGNAL's bits */
	CHECK(r.exits == 1);  /* none of it went through the VMM */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-hypercall-ipc", t_vm_hypercall, BOOT_HAS_VCPU);

/* --- WFI with nothing armed sleeps in the kernel until an injection ------ */

static uint64_t thread_state(cptr_t thread)
{
	uint64_t regs[5] = { 0 };
	inv(SYS_THREAD_READ_REGS, thread, 0, 0, 0, 0, 0, 0, regs);
	return regs[4];
}

static bool t_vm_wfi_wake(void)
{
	struct accounts before = accounts_read();
	struct run r;
	bool ok = run_start(&r, GT_WFI_WAKE, 0, 0, 0) && vm_start(&r.vm, 0) == E_OK;
	unsigned spins = 0;
	while (ok && thread_state(r.vm.v[0].thread) != TS_BLOCKED_WFI && spins++ < 100000)
		INV0(SYS_YIELD, 0); /* the guest runs at this priority on this CPU */
	ok = ok && thread_state(r.vm.v[0].thread) == TS_BLOCKED_WFI &&
	     INV1(SYS_VCPU_INJECT, r.vm.v[0].vcpu, 42) == E_OK && serve(&r);
	run_end(&r);
	CHECK(ok);
	CHECK(r.exits - r.claims == 1); /* riscv64 claims 42 through the VMM */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-wfi-sleeps-until-injected", t_vm_wfi_wake, BOOT_HAS_VCPU);

/* A notification bound to a virtual interrupt raises it on every signal:
 * a server (or a device's IRQ handler) interrupts the guest directly. */
static bool t_vm_notification_virq(void)
{
	struct accounts before = accounts_read();
	struct run r;
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), n2 = new_obj(OBJ_NOTIFICATION, 0);
	bool ok = n && n2 && run_start(&r, GT_WFI_WAKE, 0, 0, 0);
	cptr_t v = r.vm.v[0].vcpu;
	ok = ok && INV2(SYS_VCPU_BIND_NOTIFICATION, v, n, 42) == E_OK &&
	     INV2(SYS_VCPU_BIND_NOTIFICATION, v, n, 43) == E_BUSY &&
	     INV2(SYS_VCPU_BIND_NOTIFICATION, v, n2, 1020) == E_RANGE &&
	     INV2(SYS_VCPU_BIND_NOTIFICATION, v, n2, VIRQ_UNBIND) == E_NOENT &&
	     INV1(SYS_THREAD_BIND_NOTIFICATION, r.vm.v[0].thread, n) == E_BUSY &&
	     vm_start(&r.vm, 0) == E_OK;
	for (unsigned spins = 0; ok && thread_state(r.vm.v[0].thread) != TS_BLOCKED_WFI &&
				 spins < 100000; spins++)
		INV0(SYS_YIELD, 0);
	ok = ok && thread_state(r.vm.v[0].thread) == TS_BLOCKED_WFI &&
	     INV1(SYS_SIGNAL, n, 1) == E_OK && serve(&r);
	/* the VM goes first: the notification's reference keeps the VCPU */
	run_end(&r);
	slot_free(n);
	slot_free(n2);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-notification-raises-virq", t_vm_notification_virq, BOOT_HAS_VCPU);

/* --- The virtual timer across VCPU switches and migrations --------------- */

#define SPIN_TICKS 10

/* Serve GT_SPIN guests on ep until each of vms[0..n) reported SPIN_TICKS
 * ticks; move(vm, ticks) runs at each report. */
static bool serve_spinners(cptr_t ep, struct vm *vms, unsigned n, unsigned *ticks,
			   void (*move)(struct vm *vm, unsigned tick))
{
	struct vm_exit x;
	uint64_t reply[5] = { VMREPLY_ADVANCE };
	CHECK_ERR(vm_wait(ep, &x), E_OK);
	for (;;) {
		unsigned i = vm_exit_vm(&x) - 1;
		CHECK(i < n && x.label == VMEXIT_DATA_ABORT && x.w[0] == TDEV_IPA + TDEV_DATA);
		CHECK(x.w[4] == ticks[i] + 1); /* the guest's own count: none lost, none twice */
		ticks[i]++;
		if (move)
			move(&vms[i], ticks[i]);
		unsigned done = 0;
		for (unsigned k = 0; k < n; k++)
			done += ticks[k] >= SPIN_TICKS;
		if (done == n)
			return true;
		CHECK_ERR(vm_reply_wait(ep, reply, &x), E_OK);
	}
}

static bool spinners(unsigned n, void (*move)(struct vm *vm, unsigned tick))
{
	struct accounts before = accounts_read();
	struct vm vms[2] = { 0 };
	unsigned ticks[2] = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	bool ok = ep;
	for (unsigned i = 0; ok && i < n; i++)
		ok = !vm_create(&vms[i], i + 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, guest_test_image,
				(uint64_t)(guest_test_image_end - guest_test_image)) &&
		     !vm_add_vcpu(&vms[i], GUEST_RAM_IPA, GT_SPIN, 0, 0, 0, GUEST_PRIO) &&
		     !vm_start(&vms[i], 0);
	ok = ok && serve_spinners(ep, vms, n, ticks, move);
	for (unsigned i = 0; i < n; i++)
		vm_destroy(&vms[i]);
	slot_free(ep);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}

/* Two VMs' VCPUs share CPU 0: each one's timer keeps time while the other
 * runs (its state saved, a kernel timer standing in for it). */
static bool t_vm_timer_switch(void) { return spinners(2, NULL); }
ROOT_TEST_NEEDS("vm-timer-across-switches", t_vm_timer_switch, BOOT_HAS_VCPU | UARCH_HAS_VTIMER);

static void migrate(struct vm *vm, unsigned tick)
{
	INV1(SYS_THREAD_SET_AFFINITY, vm->v[0].thread, tick % bootinfo->ncpus);
}

/* One VCPU moved to another CPU at every tick. */
static bool t_vm_timer_migrate(void) { return spinners(1, migrate); }
ROOT_TEST_NEEDS("vm-timer-across-migrations", t_vm_timer_migrate, BOOT_HAS_VCPU | UARCH_HAS_VTIMER);

/* CPU 1 taken off line under the VCPU, then brought back: it goes on on
 * another CPU, its state and timer (parked on CPU 1) moved first. */
static void hotplug(struct vm *vm, unsigned tick)
{
	uint64_t r[5];
	if (tick == 1 || tick == 8)
		INV1(SYS_THREAD_SET_AFFINITY, vm->v[0].thread, 1);
	if (tick == 3)
		inv(SYS_CPU_SET_ONLINE, ROOT_IRQ_CONTROL, 1, 0, 0, 0, 0, 0, r);
	if (tick >= 5 && tick < 8) /* the guest's ticks wait for nothing */
		inv(SYS_CPU_SET_ONLINE, ROOT_IRQ_CONTROL, 1, 1, 0, 0, 0, 0, r);
}

static bool t_vm_timer_hotplug(void)
{
	if (bootinfo->ncpus < 2)
		return true;
	bool ok = spinners(1, hotplug);
	CHECK(cpu1_becomes(1)); /* whatever happened: the tests after need it */
	return ok;
}
ROOT_TEST_NEEDS("vm-timer-across-hotplug", t_vm_timer_hotplug, BOOT_HAS_VCPU | BOOT_HAS_HOTPLUG | UARCH_HAS_VTIMER);

/* --- Execute rights at stage 2 ---------------------------------------------- */

/* GT_EXEC's page, mapped read-write only: its first call exits, as an
 * instruction abort at the page; the VMM maps it executable and the call
 * runs.  (x86 VMX walked native tables as EPT before AS_GUEST spaces, and
 * ran such a page.) */
static cptr_t exec_frame;
static unsigned exec_aborts;

static bool exec_abort(struct run *r, const struct vm_exit *x)
{
	exec_aborts++;
	return x->w[0] == EXEC_IPA && exec_aborts == 1 &&
	       INV1(SYS_AS_UNMAP, r->vm.as, exec_frame) == E_OK &&
	       INV3(SYS_AS_MAP, r->vm.as, exec_frame, EXEC_IPA, R_READ | R_EXEC) == E_OK;
}

static bool exec_done(struct run *r, uint64_t step)
{
	(void)r;
	return step == 1 && exec_aborts == 1;
}

static bool t_vm_exec_rights(void)
{
	struct accounts before = accounts_read();
	struct run r;
	exec_aborts = 0;
	bool ok = run_start(&r, GT_EXEC, 0, 0, 0) &&
		  (exec_frame = new_obj(OBJ_FRAME, FRAME_BITS_4K)) &&
		  INV3(SYS_AS_MAP, r.vm.as, exec_frame, EXEC_IPA, R_READ | R_WRITE) == E_OK &&
		  vm_start(&r.vm, 0) == E_OK;
	r.on_insn_abort = exec_abort;
	r.on_sync = exec_done;
	ok = ok && serve(&r);
	run_end(&r);
	if (exec_frame)
		slot_free(exec_frame);
	exec_frame = 0;
	CHECK(ok);
	CHECK(exec_aborts == 1);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-exec-rights", t_vm_exec_rights, BOOT_HAS_VCPU);

/* --- Invocation errors ----------------------------------------------------- */

static bool t_vm_errors(void)
{
	struct accounts before = accounts_read();
	cptr_t v = new_obj(OBJ_VCPU, 0), v2 = new_obj(OBJ_VCPU, 0), th = new_obj(OBJ_THREAD, 0);
	cptr_t ro = slot_alloc();
	CHECK(v && v2 && th && ro);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_VCPU, 1, ROOT_CNODE, ro), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 3, ROOT_CNODE, ro), E_INVAL);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 1ull << 32 | AS_GUEST, ROOT_CNODE, ro), E_INVAL);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, ROOT_THREAD), E_BUSY); /* running: this one */
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, 0), E_NOENT);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, ROOT_CNODE), E_BADTYPE);
	CHECK_ERR(INV1(SYS_VCPU_READ_REG, v, VREG_X0), E_NOENT); /* no thread: no GPRs */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_SCTLR_EL1, 0x30d00800), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, th), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, th), E_BUSY);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v2, th), E_BUSY);
	uint64_t out[5];
	CHECK_ERR(inv(SYS_VCPU_READ_REG, v, VREG_PSTATE, 0, 0, 0, 0, 0, out), E_OK);
	CHECK(out[0] == 0x3c5); /* EL1h, interrupts masked */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_PSTATE, 0x3c9), E_INVAL); /* EL2h */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_PSTATE, 0x3d0), E_INVAL); /* AArch32 */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_PSTATE, 1ull << 32 | 5), E_INVAL);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_PSTATE, 0x3c4), E_OK); /* EL1t */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_COUNT, 0), E_RANGE);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, 1ull << 32 | VREG_X0, 0), E_RANGE);
	CHECK_ERR(INV1(SYS_VCPU_READ_REG, v, VREG_PSTATE + 1), E_RANGE);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, 1020), E_RANGE);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, 1ull << 32 | 40), E_RANGE);
	CHECK_ERR(INV2(SYS_VCPU_SET_VIRQ, v, 40, 2), E_INVAL);
	CHECK_ERR(INV2(SYS_VCPU_SET_VIRQ, v, 1ull << 40, 1), E_RANGE);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, v, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, ro, VREG_X0, 0), E_RIGHTS);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, ro, 40), E_RIGHTS);
	CHECK_ERR(INV1(SYS_VCPU_READ_REG, ro, VREG_X0), E_OK);
	/* the bound thread keeps its VCPU: deleting the capabilities first,
	 * then the thread, frees both */
	slot_free(ro);
	slot_free(v);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v2, th), E_BUSY);
	slot_free(th);
	slot_free(v2);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-invocation-errors", t_vm_errors, BOOT_HAS_VCPU | UARCH_IS_AARCH64);

/* --- Stage-2 isolation: two guests at the same guest-physical addresses --- */

/* Serve both VMs on one endpoint; at each one's sync, check that each
 * VM's RAM holds its own mark (or none yet), never the other's. */
static bool t_vm_isolation(void)
{
	struct accounts before = accounts_read();
	struct vm vms[2] = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	const uint64_t mark[2] = { 0x1111111111111111ull, 0x2222222222222222ull };
	bool ok = ep;
	for (unsigned i = 0; ok && i < 2; i++)
		ok = !vm_create(&vms[i], i + 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, guest_test_image,
				(uint64_t)(guest_test_image_end - guest_test_image)) &&
		     !vm_add_vcpu(&vms[i], GUEST_RAM_IPA, GT_ISOLATION, mark[i], 0,
				  i % bootinfo->ncpus, GUEST_PRIO) && !vm_start(&vms[i], 0);
	struct vm_exit x;
	uint64_t reply[5] = { 0 }, aborts = 0, results = 0;
	ok = ok && !vm_wait(ep, &x);
	while (ok) {
		unsigned i = vm_exit_vm(&x) - 1;
		reply[0] = VMREPLY_ADVANCE;
		if (i > 1 || x.label != VMEXIT_DATA_ABORT) {
			ok = false;
			break;
		}
		for (unsigned k = 0; k < 2; k++) {
			uint64_t seen = *(volatile uint64_t *)(vms[k].ram_va + GUEST_RAM_SIZE - 8);
			ok = ok && (seen == 0 || seen == mark[k]);
		}
		if (x.w[0] == GUEST_RAM_IPA + GUEST_RAM_SIZE) { /* beyond its RAM: the VMM's */
			aborts++;
			reply[0] = VMREPLY_ABORT;
		} else if (x.w[0] == TDEV_IPA + TDEV_RESULT) {
			ok = ok && x.w[4] == TEST_PASS;
			if (++results == 2)
				break;
			/* that one stops: receiving again would cancel its exit,
			 * and a cancelled exit is made again */
			ok = ok && !INV0(SYS_THREAD_SUSPEND, vms[i].v[0].thread) && !vm_wait(ep, &x);
			continue;
		}
		ok = ok && !vm_reply_wait(ep, reply, &x);
	}
	for (unsigned i = 0; i < 2; i++)
		vm_destroy(&vms[i]);
	if (ep)
		slot_free(ep);
	CHECK(ok && aborts == 2 && results == 2);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-stage2-isolation", t_vm_isolation, BOOT_HAS_VCPU);

/* Guest-physical addresses up to 2^40: a page mapped just above 2^39 (where
 * a 39-bit space ends) reads back in the guest. */
static bool t_vm_high_ipa(void)
{
	struct accounts before = accounts_read();
	const uint64_t ipa = (1ull << 39) + 0x5000, word = 0x5a5a0000c0ffee00ull;
	struct run r;
	cptr_t f = 0, copy = 0;
	uint64_t *page = new_page(&f);
	bool ok = page && run_start(&r, GT_PEEK, ipa + 8, 0, 0) && (copy = slot_alloc());
	if (ok) {
		page[1] = word;
		ok = !INV4(SYS_CNODE_COPY, ROOT_CNODE, copy, ROOT_CNODE, f, R_ALL) &&
		     !INV3(SYS_AS_MAP, r.vm.as, copy, ipa, R_READ) &&
		     INV3(SYS_AS_MAP, r.vm.as, copy, 1ull << USER_VA_BITS, R_READ) != E_OK &&
		     !vm_start(&r.vm, 0) && serve(&r);
	}
	run_end(&r);
	if (copy)
		slot_free(copy);
	if (f)
		slot_free(f);
	CHECK(ok);
	CHECK(r.nwrites == 1 && r.writes[0] == (3ull << 60 | word));
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-ipa-above-2^39", t_vm_high_ipa, BOOT_HAS_VCPU);

/* Two VCPUs: the guest starts its second with PSCI CPU_ON (through the
 * VMM), then they interrupt each other with SGIs (ICC_SGI1R_EL1 exits the
 * VMM turns into VCPU_INJECT), on different CPUs where there are two.  On
 * riscv64 SBI HSM hart_start and SBI IPIs (vm_sbi) do the same. */
static bool t_vm_smp(void)
{
	struct run r;
	return guest_test(GT_SMP, &r, NULL);
}
ROOT_TEST_NEEDS("vm-psci-cpu-on-and-sgis", t_vm_smp, BOOT_HAS_VCPU | UARCH_HAS_GUEST_SMP);

/* riscv64's SBI RFENCE (every function the VMM serves, with masks naming
 * harts the VM has and ones naming others) and HSM hart_stop: the second
 * VCPU stops itself, is started again at a new a1, stops again (vm_sbi). */
static bool t_vm_sbi_rfence_hsm(void)
{
	struct run r;
	return guest_test(GT_SBI_RFENCE_HSM, &r, NULL); /* the stopped VCPU's accounts too */
}
ROOT_TEST_NEEDS("vm-sbi-rfence-hart-stop", t_vm_sbi_rfence_hsm,
		BOOT_HAS_VCPU | UARCH_HAS_GUEST_SBI);

/* Device passthrough: the guest drives QEMU's PL031 through its device
 * frame mapped into the guest's space, and the RTC's interrupt reaches it
 * as a virtual interrupt through an IRQ handler, a notification bound to
 * the VCPU, and no VMM.  Only the result comes to the VMM. */
static bool t_vm_passthrough(void)
{
	struct accounts before = accounts_read();
	uint64_t base, intid, off;
	CHECK(dt_device("arm,pl031", &base, &intid));
	cptr_t f = device_frame(base, &off), copy = slot_alloc(), h = slot_alloc();
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0);
	struct run r;
	CHECK(f && copy && h && n && off == 0);
	bool ok = run_start(&r, GT_PASSTHROUGH, base, intid, 0) &&
		  !INV4(SYS_CNODE_COPY, ROOT_CNODE, copy, ROOT_CNODE, f, R_ALL) &&
		  !INV3(SYS_AS_MAP, r.vm.as, copy, base, R_READ | R_WRITE) &&
		  !INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, intid, ROOT_CNODE, h) &&
		  !INV2(SYS_IRQ_SET_NOTIFICATION, h, n, 1) &&
		  !INV2(SYS_VCPU_BIND_NOTIFICATION, r.vm.v[0].vcpu, n, intid) &&
		  !vm_start(&r.vm, 0) && serve(&r);
	run_end(&r);
	slot_free(h);
	slot_free(n);
	slot_free(copy);
	CHECK(ok);
	CHECK(r.exits == 1); /* device and interrupt both bypassed the VMM */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-device-passthrough", t_vm_passthrough, BOOT_HAS_VCPU | UARCH_IS_AARCH64);
