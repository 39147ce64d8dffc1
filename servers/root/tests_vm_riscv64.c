/* riscv64's VCPU invocations: its register ids (include/cairn/vcpu.h,
 * enum vcpu_reg_riscv64) and the claim of external interrupts.  AArch64's
 * register and PSTATE checks are vm-invocation-errors (tests_vm.c). */
#include "cairn/vcpu.h"
#include "servers/root/check.h"
#include "servers/root/suite.h"

#ifdef __riscv /* its ids are riscv64's: the test is built only there */
static uint64_t rd(cptr_t v, uint64_t id, err_t *e)
{
	uint64_t out[5] = { ~0ull };
	*e = inv(SYS_VCPU_READ_REG, v, id, 0, 0, 0, 0, 0, out);
	return out[0];
}

static bool t_vm_errors_riscv64(void)
{
	struct accounts before = accounts_read();
	cptr_t v = new_obj(OBJ_VCPU, 0), th = new_obj(OBJ_THREAD, 0);
	err_t e;
	CHECK(v && th);
	CHECK_ERR(INV1(SYS_VCPU_READ_REG, v, 10), E_NOENT); /* no thread: no a0 */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_VSSCRATCH, 5), E_OK);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_CLAIM, 0), E_INVAL); /* read only */
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, th), E_OK);
	CHECK(rd(v, VREG_RV_MODE, &e) == 1 && !e); /* VS-mode, pc 0 */
	CHECK(rd(v, VREG_RV_PC, &e) == 0 && !e);
	CHECK(rd(v, 0, &e) == 0 && !e);              /* x0 */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, 0, 1), E_INVAL);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_MODE, 2), E_INVAL); /* never HS */
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_MODE, 1ull << 32 | 1), E_INVAL);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_MODE, 0), E_OK);
	CHECK(rd(v, VREG_RV_MODE, &e) == 0 && !e);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_MODE + 1, 0), E_RANGE);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_COUNT, 0), E_RANGE);
	CHECK_ERR(INV1(SYS_VCPU_READ_REG, v, 1ull << 32 | 10), E_RANGE);
	CHECK_ERR(INV2(SYS_VCPU_WRITE_REG, v, 31, 0x7777), E_OK); /* t6 */
	CHECK(rd(v, 31, &e) == 0x7777 && !e);
	CHECK(rd(v, VREG_RV_VSSCRATCH, &e) == 5 && !e);
	/* External interrupts wait in the kernel for a claim, lowest first;
	 * a disabled one is not claimable until enabled. */
	CHECK(rd(v, VREG_RV_CLAIM, &e) == 0 && !e);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, 40), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, VIRQ_RV_EXT), E_OK);
	CHECK_ERR(INV2(SYS_VCPU_SET_VIRQ, v, 41, 0), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, 41), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, VIRQ_RV_SOFT), E_OK); /* not an external one */
	CHECK(rd(v, VREG_RV_CLAIM, &e) == VIRQ_RV_EXT && !e);
	CHECK(rd(v, VREG_RV_CLAIM, &e) == 40 && !e);
	CHECK(rd(v, VREG_RV_CLAIM, &e) == 0 && !e);
	CHECK_ERR(INV2(SYS_VCPU_SET_VIRQ, v, 41, 1), E_OK);
	CHECK(rd(v, VREG_RV_CLAIM, &e) == 41 && !e);
	CHECK_ERR(INV1(SYS_VCPU_INJECT, v, 1020), E_RANGE);
	slot_free(v);
	slot_free(th);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-invocation-errors-riscv64", t_vm_errors_riscv64, BOOT_HAS_VCPU);

/* AS_GUEST_FENCE: one or both bits, nothing else (the whole register), on
 * a space with a VMID or none yet, never an I/O space; the write right. */
static bool t_guest_fence_errors(void)
{
	struct accounts before = accounts_read();
	cptr_t as = new_obj(OBJ_ASPACE, 0), ro = slot_alloc(), n = new_obj(OBJ_NOTIFICATION, 0);
	CHECK(as && ro && n);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, as, R_READ), E_OK);
	for (uint64_t what = 1; what <= 3; what++) {
		CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, what), E_OK);
		CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, ROOT_ASPACE, what), E_OK); /* loaded here */
	}
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, 0), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, 4), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, 1ull << 32 | 1), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, as, ~0ull), E_INVAL);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, ro, 1), E_RIGHTS);
	CHECK_ERR(INV1(SYS_AS_GUEST_FENCE, n, 1), E_BADTYPE);
	slot_free(ro);
	slot_free(as);
	slot_free(n);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-guest-fence-errors", t_guest_fence_errors, BOOT_HAS_VCPU);
#endif
