/* Device drivers as servers (driver.h).  Each instance of a driver gets the
 * same capabilities, copied from the root task's, which keeps the
 * originals: so a driver can die at any point (its memory is revoked, and
 * with it everything it made) and the next instance starts from the same
 * authority.  Its faults come to the root task's fault endpoint. */
#include <libfdt.h>
#include "servers/lib/pci.h"
#include "servers/root/driver.h"

#define DRIVER_QUOTA (4ull << 20)

static struct server pci;
static cptr_t pci_ep;

/* Where the port has MSI lines (x86_64: LAPIC vectors the kernel lends, but
 * 0x80), a device without an INTx line interrupts through one of them, by
 * MSI-X (servers/lib/vpci.c).  x86_64's devices never have one here: their
 * INTx routing is in ACPI's AML (_PRT), which nothing reads, and an MSI-X
 * vector is the device's own, edge-triggered, never shared. */
#ifdef __x86_64__
enum { MSI_FIRST = 0x40, MSI_LAST = 0xdf, MSI_SKIP = 0x80 };
#else
enum { MSI_FIRST = 1, MSI_LAST = 0, MSI_SKIP = 0 }; /* none */
#endif

/* An MSI line for a driver, into slot `to`: the first the kernel lends
 * (those taken already answer E_BUSY; drivers keep theirs for good, so a
 * cursor over the lines is the allocator).  Its number, or 0. */
static unsigned msi_line_get(cptr_t to)
{
	static unsigned next = MSI_FIRST;
	for (; next <= MSI_LAST; next++)
		if (next != MSI_SKIP && !INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, next, ROOT_CNODE, to))
			return next++;
	return 0;
}

/* The PCI server, given the bridge's ECAM and 32-bit memory window (the
 * DTB's pci node: reg and ranges) and nothing else of the machine. */
bool pci_server_start(void)
{
	extern const char pci_image[];
	if (pci_ep)
		return true;
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt ? fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic") : -1, len;
	const fdt64_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	const fdt32_t *r = node >= 0 ? fdt_getprop(fdt, node, "ranges", &len) : NULL;
	if (!reg || !r)
		return false; /* no DTB (x86_64) or no ECAM bridge in it */
	struct pa_range want[2] = { { fdt64_to_cpu(reg[0]), fdt64_to_cpu(reg[1]) } };
	for (int i = 0; i + 7 <= len / 4; i += 7)
		if ((fdt32_to_cpu(r[i]) >> 24 & 3) == 2) /* 32-bit memory */
			want[1] = (struct pa_range){
				(uint64_t)fdt32_to_cpu(r[i + 3]) << 32 | fdt32_to_cpu(r[i + 4]),
				(uint64_t)fdt32_to_cpu(r[i + 5]) << 32 | fdt32_to_cpu(r[i + 6]) };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	struct server_spec spec = { .quota = 16ull << 20, .prio = ROOT_PRIO, .devs = want, .ndevs = 2,
				    .name = "pci" };
	err_t e = ep ? server_create_spec(&pci, pci_image, &spec) : E_NOMEM;
	if (!e && !(e = server_give(&pci, PCI_SLOT_EP, ep, R_READ)))
		e = server_start(&pci);
	printf("root: PCI server %s\n", e ? "did not start" : "started");
	if (!e)
		pci_ep = ep;
	return !e;
}

bool pci_find(const uint32_t *ids, unsigned n, struct pcidev *out)
{
	for (unsigned i = 0; pci_ep && i < n; i++) {
		struct sysregs r = { .mr = { ids[i], 0 }, .nr = SYS_CALL, .cap = pci_ep,
				     .info = msginfo(PCI_FIND, 2, 0) };
		if (!sys(&r) && r.mr[0] == E_OK && r.mr[3] && (r.mr[4] || MSI_FIRST <= MSI_LAST)) {
			*out = (struct pcidev){ .handle = r.mr[1], .bars = { r.mr[2], r.mr[3] },
						.intid = (unsigned)r.mr[4], .rid = r.mr[6] };
			return true;
		}
	}
	return false;
}

bool driver_init(struct driver *d, const char *image, const struct pcidev *p, cptr_t client)
{
	*d = (struct driver){ .image = image, .bars = p->bars, .client = client };
	d->ntfn = new_obj(OBJ_NOTIFICATION, 0);
	d->fault_ep = new_obj(OBJ_ENDPOINT, 0);
	d->irq = slot_alloc();
	d->dev_ep = slot_alloc();
	/* its DMA stream, where an IOMMU confines it (else none: E_RANGE) */
	d->stream = slot_alloc();
	if (d->stream && INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, p->rid, ROOT_CNODE, d->stream)) {
		slot_free(d->stream);
		d->stream = 0;
	}
	/* its INTx line, or an MSI line that its driver makes its MSI-X vector 0 */
	bool irq = d->irq && (p->intid ? !INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, p->intid, ROOT_CNODE,
						d->irq) : (d->msi = msi_line_get(d->irq)) != 0);
	return d->ntfn && d->fault_ep && irq && d->dev_ep &&
	       !inv(SYS_CNODE_MINT, ROOT_CNODE, d->dev_ep, ROOT_CNODE, pci_ep, R_WRITE,
		    p->handle + 1, 0, 0);
}

bool driver_watch(struct driver *d, cptr_t faults, uint64_t badge)
{
	slot_free(d->fault_ep);
	d->fault_ep = slot_alloc();
	return d->fault_ep && !inv(SYS_CNODE_MINT, ROOT_CNODE, d->fault_ep, ROOT_CNODE, faults,
				   R_WRITE, badge, 0, 0);
}

void driver_give(struct driver *d, uint64_t slot, cptr_t cap, unsigned rights)
{
	if (d->ngive < DRIVER_GIVE_MAX)
		d->give[d->ngive++] = (typeof(d->give[0])){ slot, cap, rights };
}

err_t driver_start(struct driver *d)
{
	struct { uint64_t slot; cptr_t cap; unsigned rights; } fixed[] = {
		{ DRIVER_SLOT_PCI, d->dev_ep, R_WRITE },
		{ DRIVER_SLOT_NTFN, d->ntfn, R_READ | R_WRITE },
		{ DRIVER_SLOT_CLIENT, d->client, R_WRITE },
		{ DRIVER_SLOT_IRQ, d->irq, R_WRITE },
		{ DRIVER_SLOT_STREAM, d->stream, R_ALL },
	};
	struct server_spec spec = { .quota = d->quota ? d->quota : DRIVER_QUOTA,
				    .prio = d->prio ? d->prio : ROOT_PRIO, .devs = &d->bars, .ndevs = 1,
				    .name = d->name, .cpu = d->cpu };
	err_t e = server_create_spec(&d->srv, d->image, &spec);
	for (unsigned i = 0; !e && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].cap)
			e = server_give(&d->srv, fixed[i].slot, fixed[i].cap, fixed[i].rights);
	for (unsigned i = 0; !e && i < d->ngive; i++)
		e = server_give(&d->srv, d->give[i].slot, d->give[i].cap, d->give[i].rights);
	if (!e) /* its faults come to the root task, which restarts it */
		e = INV3(SYS_THREAD_CONFIGURE, d->srv.thread, d->srv.cspace, d->srv.as, d->fault_ep);
	if (!e)
		e = server_start(&d->srv);
	if (e)
		server_destroy(&d->srv);
	else
		d->started++;
	return e;
}

void driver_kill(struct driver *d) { server_destroy(&d->srv); }

err_t driver_restart(struct driver *d)
{
	driver_kill(d);
	d->restarts++;
	return driver_start(d);
}

bool driver_steal_irq(struct driver *d, volatile uint32_t *instances)
{
	if (!d->stolen)
		d->stolen = new_obj(OBJ_NOTIFICATION, 0);
	INV2(SYS_THREAD_SET_PRIORITY, ROOT_THREAD, 1, ROOT_MCP); /* let it run, whatever runs */
	for (unsigned spin = 0; spin < 100000 && *instances < d->started; spin++)
		INV0(SYS_YIELD, 0);
	INV2(SYS_THREAD_SET_PRIORITY, ROOT_THREAD, ROOT_PRIO, ROOT_MCP);
	return d->stolen && !INV2(SYS_IRQ_SET_NOTIFICATION, d->irq, d->stolen, 1);
}
