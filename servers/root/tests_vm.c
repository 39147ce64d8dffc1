/* Guests: the test guest (guests/test) run under a VMM in this task, one
 * kind of exit per test, each checked from both sides, and each leaving
 * the accounts where they were. */
#include "guests/test/guest.h"
#include "servers/root/check.h"
#include "servers/vmm/vm.h"

extern const char guest_test_image[], guest_test_image_end[];
#define GUEST_PRIO ROOT_PRIO /* the VMM's own: the guest runs while it waits */
#define GUEST_PAGES (GUEST_RAM_SIZE / PAGE_SIZE_U)

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
};

/* Start guest test t; run_end cleans up after it, whether it started or not. */
static bool run_start(struct run *r, enum guest_test t, uint64_t a1, uint64_t a2, unsigned cpu)
{
	*r = (struct run){ .result = 0 };
	CHECK((r->ep = new_obj(OBJ_ENDPOINT, 0)));
	CHECK_ERR(vm_create(&r->vm, 1, r->ep, GUEST_RAM_IPA, GUEST_PAGES, guest_test_image,
			    (uint64_t)(guest_test_image_end - guest_test_image)), E_OK);
	CHECK_ERR(vm_add_vcpu(&r->vm, GUEST_RAM_IPA, t, a1, a2, cpu, GUEST_PRIO), E_OK);
	return true;
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
		reply[0] |= VMREPLY_READ;
		reply[1] = off == TDEV_DATA ? TDEV_PATTERN : 0;
	} else if (off == TDEV_RESULT) {
		r->result = x->w[4];
		return false;
	} else if (off == TDEV_SYNC) {
		if (r->on_sync && !r->on_sync(r, x->w[4]))
			reply[0] = VMREPLY_ABORT;
	} else if (off == TDEV_DATA && r->nwrites < 8) {
		r->writes[r->nwrites++] = (acc & VMACC_SIZE_MASK) << 60 | x->w[4];
	}
	return true;
}

/* Answer one exit the way a VMM for the test guest does; false when the
 * guest has reported its result. */
static bool vmm_exit(struct run *r, const struct vm_exit *x, uint64_t *reply)
{
	reply[0] = VMREPLY_ADVANCE;
	r->exits++;
	switch (x->label) {
	case VMEXIT_DATA_ABORT:
		if (x->w[0] >= TDEV_IPA && x->w[0] < TDEV_IPA + PAGE_SIZE_U)
			return tdev(r, x, reply);
		r->last_abort_ipa = x->w[0];
		reply[0] = VMREPLY_ABORT; /* nothing there: the guest gets an abort */
		return true;
	case VMEXIT_HVC:
	case VMEXIT_SMC:
		if (x->w[0] == PSCI_VERSION) {
			reply[0] |= VMREPLY_REGS;
			reply[1] = VMM_PSCI_VERSION;
		} else {
			reply[0] = VMREPLY_ABORT;
		}
		return true;
	case VMEXIT_SYSREG:
		r->sysreg_enc = x->w[0];
		r->sysreg_val = x->w[4];
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
	bool ok = run_start(r, t, 0, 0, 0);
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
ROOT_TEST("vm-mmio", t_vm_mmio);

static bool t_vm_hvc_smc(void)
{
	struct run r;
	return guest_test(GT_HVC_SMC, &r, NULL);
}
ROOT_TEST("vm-hvc-smc", t_vm_hvc_smc);

static bool t_vm_timer(void)
{
	struct run r;
	CHECK(guest_test(GT_TIMER, &r, NULL));
	/* WFI and the timer are the kernel's: no exit reached the VMM but
	 * the final report. */
	CHECK(r.exits == 1);
	return true;
}
ROOT_TEST("vm-timer-wfi", t_vm_timer);

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
ROOT_TEST("vm-inject-beyond-lrs", t_vm_inject);

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
ROOT_TEST("vm-pending-while-disabled", t_vm_disabled);

static bool t_vm_abort(void)
{
	struct run r;
	CHECK(guest_test(GT_ABORT, &r, NULL));
	CHECK(r.last_abort_ipa == OUTSIDE_RAM_IPA);
	return true;
}
ROOT_TEST("vm-abort-outside-ram", t_vm_abort);

static bool t_vm_no_syndrome(void)
{
	struct run r;
	return guest_test(GT_NO_SYNDROME, &r, NULL);
}
ROOT_TEST("vm-mmio-no-syndrome", t_vm_no_syndrome);

/* ICC_SGI1R_EL1: op0 3, op1 0, CRn 12, CRm 11, op2 5, as ESR encodes it. */
#define ISS_ICC_SGI1R (3u << 20 | 5u << 17 | 0u << 14 | 12u << 10 | 11u << 1)

static bool t_vm_sysreg(void)
{
	struct run r;
	CHECK(guest_test(GT_SYSREG, &r, NULL));
	CHECK(r.sysreg_enc == ISS_ICC_SGI1R);
	CHECK(r.sysreg_val == (0x1234ull << 16 | 1));
	return true;
}
ROOT_TEST("vm-sysreg-sgi", t_vm_sysreg);
