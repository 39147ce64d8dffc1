/* User-level tests of error paths the per-object tests leave out: protect,
 * mint, copy and move errors, and a map its Memory cannot pay for. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* Protect, mint, copy and move. */
bool t_cap_and_map_errors(void)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0);
	/* protect: not mapped, more rights than the capability, no read */
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K), ro = slot_alloc();
	CHECK(n && f && ro);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, f, R_READ), E_NOENT);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_READ), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, ro, 0x3f000000, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ | R_WRITE), E_RIGHTS);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_WRITE), E_INVAL); /* no read */
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ | 0x80), E_INVAL);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_AS_PROTECT, n, ro, R_READ), E_BADTYPE);
	/* mint: only endpoints, notifications and CNodes take a badge; copy
	 * needs an empty destination */
	cptr_t m = slot_alloc();
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, f, R_ALL, 7, 0, 0), E_BADTYPE);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_ALL), E_SLOT);
	/* a CNode's guard must fit its bits, and guard and radix 64 bits */
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, ROOT_CNODE, R_ALL, 0, 60, 0),
		  E_INVAL);
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, ROOT_CNODE, R_ALL, 8, 3, 0),
		  E_INVAL);
	/* moving from an empty slot */
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, m, ROOT_CNODE, m), E_BADCAP);
	slot_free(m), slot_free(ro), slot_free(f), slot_free(n);
	return true;
}

/* A map whose page tables the space's Memory cannot pay for fails with
 * E_NOMEM, and what it did build comes back with the space. */
bool t_map_out_of_memory(void)
{
	struct accounts before = accounts_read();
	cptr_t sub = 0, as = slot_alloc();
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	CHECK(as && f);
	/* The smallest Memory that pays for a space (its root table: a page on
	 * AArch64, four on riscv64's Sv39x4), then one page more: the map
	 * builds one table and fails for want of the next. */
	uint64_t pages = 1;
	for (; pages <= 8; pages++) {
		CHECK(sub = new_obj(OBJ_MEMORY, pages * 4096));
		err_t e = retype(sub, OBJ_ASPACE, 0, ROOT_CNODE, as);
		if (e == E_OK)
			CHECK_ERR(INV1(SYS_CNODE_DELETE, ROOT_CNODE, as), E_OK);
		slot_free(sub), sub = 0;
		if (e == E_OK)
			break;
	}
	CHECK(pages <= 8 && (sub = new_obj(OBJ_MEMORY, (pages + 1) * 4096)));
	CHECK_ERR(retype(sub, OBJ_ASPACE, 0, ROOT_CNODE, as), E_OK); /* its root table */
	CHECK_ERR(INV3(SYS_AS_MAP, as, f, 0x40000000, R_READ), E_NOMEM); /* two more */
	uint64_t r[5];
	CHECK_ERR(inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] == ~0ull); /* not mapped */
	slot_free(f), slot_free(as), slot_free(sub);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
