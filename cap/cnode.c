/* CNode objects: creation and destruction. */
#include "cap/cap.h"
#include "mm/memory.h"

err_t cnode_create(struct memory *payer, unsigned bits, struct cnode **out)
{
	struct obj *o;
	err_t e = obj_alloc(payer, OBJ_CNODE, sizeof(struct cap) << bits, &o);
	if (e)
		return e;
	struct cnode *cn = (struct cnode *)o;
	cn->bits = bits;
	*out = cn;
	return E_OK;
}

/* Deleting the slots may end more objects: they join the destroy queue. */
bool cnode_destroy(struct obj *o)
{
	struct cnode *cn = (struct cnode *)o;
	for (uint64_t i = 1; i < (1ull << cn->bits); i++)
		cap_delete(&cnode_slots(cn)[i]);
	return true;
}
