/* A Memory quota bounds the kernel memory its holder can make the kernel
 * spend, exactly (issue 10, finding 5): filling a sub-quota with objects of
 * any one kind takes from the kernel's free pages exactly what the quota
 * was charged, and never more than the quota. */
#include "servers/root/check.h"

static uint64_t quota_used(cptr_t mem)
{
	uint64_t r[5];
	return inv(SYS_MEM_INFO, mem, 0, 0, 0, 0, 0, 0, r) ? ~0ull : r[1];
}

#define FILL_CNODE_BITS 12

/* Retype objects of (type, size) from a fresh quota into a CNode until the
 * quota runs out; `sub_quota` is what each object takes from the quota
 * without being kernel memory (a Memory object's own quota). */
static bool fill(enum obj_type type, uint64_t size, uint64_t quota, uint64_t sub_quota)
{
	cptr_t cn = new_obj(OBJ_CNODE, FILL_CNODE_BITS), sub = new_obj(OBJ_MEMORY, quota);
	CHECK(cn && sub);
	uint64_t free0 = accounts_read().free_pages, n = 0;
	err_t e;
	while ((e = retype(sub, type, size, cn, n + 1)) == E_OK)
		CHECK(++n < (1u << FILL_CNODE_BITS) - 1);
	CHECK_ERR(e, E_NOMEM);
	uint64_t used = quota_used(sub), taken = free0 - accounts_read().free_pages;
	CHECK(n > 0 && used <= quota);
	if (taken * PAGE_SIZE_U != used - n * sub_quota) {
		printf("root: type %u size %lu: %lu objects, %lu bytes charged, %lu pages taken\n",
		       type, size, n, used, taken);
		return false;
	}
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, sub), E_OK);
	CHECK(quota_used(sub) == 0 && accounts_read().free_pages == free0);
	slot_free(sub), slot_free(cn);
	return true;
}

static bool t_quota_bounds_every_class(void)
{
	static const struct { enum obj_type type; uint64_t size; } kinds[] = {
		{ OBJ_ENDPOINT, 0 },	{ OBJ_NOTIFICATION, 0 }, { OBJ_THREAD, 0 }, { OBJ_VCPU, 0 },
		{ OBJ_ASPACE, 0 },	{ OBJ_FRAME, FRAME_BITS_4K },
		{ OBJ_CNODE, 1 },	{ OBJ_CNODE, 2 },	{ OBJ_CNODE, 3 },
		{ OBJ_CNODE, 4 },	{ OBJ_CNODE, 5 },	{ OBJ_CNODE, 6 },
		{ OBJ_CNODE, 9 },
	};
	struct accounts before = accounts_read();
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].type != OBJ_VCPU || (bootinfo->features & BOOT_HAS_VCPU))
			CHECK(fill(kinds[i].type, kinds[i].size, 64 * 1024, 0));
	CHECK(fill(OBJ_FRAME, FRAME_BITS_2M, 5 * 1024 * 1024, 0));
	CHECK(fill(OBJ_MEMORY, 4096, 64 * 1024, 4096));
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
ROOT_TEST("quota-bounds-every-class", t_quota_bounds_every_class);
