/* Page tables that an unmap leaves empty are freed and refunded (issue 10,
 * finding 6), so a 2 MiB block can take the place where a 4 KiB page's
 * tables were, and the Memory that paid for them gets them back. */
#include "servers/root/check.h"

static bool t_unmap_frees_tables(void)
{
	cptr_t as = new_obj(OBJ_ASPACE, 0), small = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	cptr_t big = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	CHECK(as && small && big);
	uint64_t before = accounts_read().mem_used;
	CHECK_ERR(INV3(SYS_AS_MAP, as, small, (1ull << USER_VA_BITS) - 4096, R_READ), E_OK);
	CHECK(accounts_read().mem_used > before); /* tables were made */
	CHECK_ERR(INV1(SYS_AS_UNMAP, as, small), E_OK);
	CHECK(accounts_read().mem_used == before);
	CHECK_ERR(INV3(SYS_AS_MAP, as, big, (1ull << USER_VA_BITS) - (2ull << 20), R_READ), E_OK);
	CHECK_ERR(INV1(SYS_AS_UNMAP, as, big), E_OK);
	CHECK(accounts_read().mem_used == before);
	slot_free(big), slot_free(small), slot_free(as);
	return true;
}
ROOT_TEST("unmap-frees-tables", t_unmap_frees_tables);
