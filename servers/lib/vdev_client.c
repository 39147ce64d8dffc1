/* A backend's side of a client's connection (vdev_client.h). */
#include "servers/lib/vdev_client.h"
#include "servers/root/root.h"

void vdev_client_forget(struct vdev_client *c)
{
	for (unsigned i = 0; i < c->nheld; i++)
		for (unsigned k = 0; k < 3; k++)
			slot_free(c->held[i] + k); /* deletes: its mappings go with it */
	*c = (struct vdev_client){ 0 };
}

/* Whether f is a frame of RAM of `bytes`, as its VMM says it is: a larger
 * one would be mapped over its neighbours' places (a 2 MiB shared page
 * over other clients' pages), a smaller one would leave a hole this server
 * faults on, and a device's registers fault on an unaligned access. */
static bool ram_frame(cptr_t f, uint64_t bytes)
{
	uint64_t info[5];
	if (inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, info) || info[0] != bytes)
		return false;
	for (unsigned i = 0; i < bootinfo->nmem && i < 16; i++) { /* bootinfo's mem[16] */
		uint64_t base = bootinfo->mem[i].base, size = bootinfo->mem[i].size;
		if (info[2] >= base && info[2] - base < size && bytes <= size - (info[2] - base))
			return true;
	}
	return false;
}

static err_t grant(struct vdev_client *c, const struct sysregs *r, cptr_t slots, unsigned ncaps)
{
	uint64_t ipa = r->mr[0], bytes = r->mr[1];
	if (!c->sh || !ncaps || (bytes != PAGE_SIZE_U && bytes != 1ull << FRAME_BITS_2M) ||
	    ipa != c->gm.ipa + c->gm.size || bytes * ncaps > c->ram_size - c->gm.size)
		return E_INVAL;
	for (unsigned i = 0; i < ncaps; i++)
		if (!ram_frame(slots + i, bytes) || INV3(SYS_AS_MAP, ROOT_ASPACE, slots + i,
			 (uint64_t)c->gm.va + c->gm.size + i * bytes, R_READ | R_WRITE))
			return E_INVAL;
	c->gm.size += bytes * ncaps;
	return E_OK;
}

static err_t setup(struct vdev_client *c, unsigned i, const struct sysregs *r, cptr_t slots,
		   unsigned ncaps)
{
	uint64_t va = VDEV_SHARED_VA + i * PAGE_SIZE_U;
	if (c->sh)
		vdev_client_forget(c);
	if (ncaps != 2 || r->mr[1] > VDEV_GMEM_SPAN || r->mr[0] > (1ull << 40) ||
	    !ram_frame(slots, PAGE_SIZE_U) || INV3(SYS_AS_MAP, ROOT_ASPACE, slots, va, R_READ | R_WRITE))
		return E_INVAL;
	c->sh = (volatile struct vdev_shared *)va;
	c->irq = slots + 1;
	/* the window grows as frames arrive, in order: nothing is reachable
	 * before it is mapped, whatever the VMM claims */
	c->gm = (struct gmem){ .ipa = r->mr[0], .va = (uint8_t *)(VDEV_GMEM_VA + i * VDEV_GMEM_SPAN) };
	c->ram_size = r->mr[1];
	c->generation = ~0u;
	return E_OK;
}

err_t vdev_client_setup(struct vdev_client *c, unsigned i, const struct sysregs *r, cptr_t slots,
			bool *fresh)
{
	unsigned ncaps = msginfo_caps(r->info);
	uint64_t label = msginfo_label(r->info);
	err_t e = label == VDEV_SETUP ? setup(c, i, r, slots, ncaps)
		: label != VDEV_GRANT ? E_INVAL
		: c->nheld == VDEV_HELD_MAX ? E_NOMEM : grant(c, r, slots, ncaps);
	*fresh = !e && label == VDEV_SETUP;
	if (!e && ncaps)
		c->held[c->nheld++] = slots;
	else
		for (unsigned k = 0; k < ncaps; k++)
			INV1(SYS_CNODE_DELETE, ROOT_CNODE, slots + k);
	return e;
}

static void drop_caps(const struct sysregs *r, cptr_t slots)
{
	for (unsigned k = 0; k < msginfo_caps(r->info); k++)
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, slots + k);
}

void vdev_backend_loop(const struct vdev_backend *b)
{
	cptr_t slots = slot_alloc_range(3);
	struct sysregs r = { .nr = SYS_RECV, .cap = VDEV_SLOT_EP, .recvslot = slots };
	err_t e;
	if (!vdev_guard_start(b->nclients))
		printf("%s: no guard: a client's VMM that takes its RAM back stops this server\n",
		       b->name);
	while (!(e = sys(&r))) {
		uint64_t badge = !r.cap && b->unbadged_first ? 1 : r.cap, answer;
		bool client = badge >= 1 && badge <= b->nclients;
		if (msginfo_label(r.info) == MSG_LABEL_NOTIFY) {
			/* a client may send this label too, and capabilities left
			 * here would keep every client's out of these slots */
			drop_caps(&r, slots);
			if (vdev_guarded_serve(b)) /* after what waits on the endpoint */
				INV1(SYS_SIGNAL, VDEV_SLOT_KICK, 1);
			r = (struct sysregs){ .nr = SYS_RECV, .cap = VDEV_SLOT_EP, .recvslot = slots };
			continue;
		}
		answer = badge == VDEV_SUPERVISOR ? b->forget(&r)
			 : client ? b->setup((unsigned)badge - 1, &r, slots) : E_INVAL;
		if (!client)
			drop_caps(&r, slots);
		else if (!answer && msginfo_caps(r.info))
			slots = slot_alloc_range(3); /* those are the client's now */
		r = (struct sysregs){ .mr = { answer }, .nr = SYS_REPLY_RECV, .cap = VDEV_SLOT_EP,
				      .info = msginfo(0, 1, 0), .recvslot = slots };
	}
	printf("%s: receive failed (%u)\n", b->name, e);
}
