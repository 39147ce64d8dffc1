/* The system description's reader (sysdesc.h; docs/SYSTEM.md).  Two
 * passes over the root node's children: the first learns what each node
 * is (its compatible) so that references can be checked in any order, the
 * second reads each node's properties against the list of those its kind
 * has.  Then the whole is checked: references, ownership of devices, each
 * guest's physical map, and the sum of the quotas against the root's
 * memory.  The first error found is reported, naming the node. */
#include <stdarg.h>
#include <libfdt.h>
#include "servers/root/sysdesc.h"

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...);

#define PRIO_DEFAULT 100 /* ROOT_PRIO: the servers' */
#define PRIO_MAX 254     /* below the root's MCP */
#define NODES (SD_DRIVERS + 2 * SD_BACKENDS + 1 + SD_GUESTS)

enum kind { K_BLK_DRIVER, K_NET_DRIVER, K_BLOCK, K_SWITCH, K_CONSOLE, K_GUEST, K_KINDS };

static const char *const kind_compat[K_KINDS] = {
	"cairn,blk-driver", "cairn,net-driver", "cairn,block-server", "cairn,net-switch",
	"cairn,console-server", "cairn,linux-guest",
};

#define SERVER_PROPS "compatible", "phandle", "memory-mib", "priority", "restart", "restart-limit"
static const char *const *const kind_props[K_KINDS] = {
	(const char *const[]){ SERVER_PROPS, "cpu", "pci-ids", NULL },
	(const char *const[]){ SERVER_PROPS, "cpu", "pci-ids", NULL },
	(const char *const[]){ SERVER_PROPS, "cpu", "disk", "ram-disk-mib", NULL },
	(const char *const[]){ SERVER_PROPS, "cpu", "uplink", NULL },
	(const char *const[]){ SERVER_PROPS, "cpu", NULL },
	(const char *const[]){ SERVER_PROPS, "kernel", "initramfs", "bootargs", "vcpus", "cpus",
			       "virtio-blk", "virtio-net", "virtio-console", "console-input",
			       "passthrough", NULL },
};

/* The first pass's findings: what each node is, and its place among its kind. */
struct node {
	int off;
	enum kind kind;
	unsigned index;
	uint32_t phandle;
};

struct reader {
	const void *fdt;
	const struct machine *m;
	struct system *s;
	struct node node[NODES];
	unsigned nnodes;
};

static bool fail(struct reader *r, int off, const char *fmt, ...)
{
	char path[SD_PATH] = "/";
	va_list ap;
	if (off > 0 && fdt_get_path(r->fdt, off, path, sizeof(path)))
		path[0] = '?', path[1] = 0;
	int n = snprintf(r->s->error, SD_ERROR, "%s: ", path);
	va_start(ap, fmt);
	vsnprintf(r->s->error + n, SD_ERROR - (unsigned)n, fmt, ap);
	va_end(ap);
	return false;
}

/* --- Properties ----------------------------------------------------------- */

static bool known_props(struct reader *r, int off, const char *const *names)
{
	int p;
	fdt_for_each_property_offset(p, r->fdt, off) {
		const char *name = NULL;
		if (!fdt_getprop_by_offset(r->fdt, p, &name, NULL) || !name)
			return fail(r, off, "a property is damaged");
		const char *const *k = names;
		while (*k && strcmp(*k, name))
			k++;
		if (!*k)
			return fail(r, off, "unknown property \"%s\"", name);
	}
	return true;
}

/* A one-cell number in [lo, hi], or dflt when absent. */
static bool prop_u32(struct reader *r, int off, const char *name, uint32_t lo, uint32_t hi,
		     uint32_t dflt, uint32_t *out)
{
	int len;
	const fdt32_t *v = fdt_getprop(r->fdt, off, name, &len);
	*out = dflt;
	if (!v)
		return true;
	if (len != 4)
		return fail(r, off, "\"%s\" must be one number, as <%u>", name, dflt);
	*out = fdt32_to_cpu(*v);
	if (*out < lo || *out > hi)
		return fail(r, off, "\"%s\" is %u: it must be %u to %u", name, *out, lo, hi);
	return true;
}

/* A string of at most max - 1 bytes into out, or dflt when absent. */
static bool prop_str(struct reader *r, int off, const char *name, const char *dflt, char *out,
		     unsigned max)
{
	int len;
	const char *v = fdt_getprop(r->fdt, off, name, &len);
	if (!v)
		v = dflt, len = (int)strlen(dflt) + 1;
	if (len < 1 || v[len - 1] || strlen(v) + 1 != (unsigned)len)
		return fail(r, off, "\"%s\" must be one string", name);
	if ((unsigned)len > max)
		return fail(r, off, "\"%s\" is longer than %u characters", name, max - 1);
	memcpy(out, v, (unsigned)len);
	return true;
}

/* A reference to a node of kind k (absent: -1), its index among them. */
static bool prop_ref(struct reader *r, int off, const char *name, enum kind k, int *out)
{
	int len;
	const fdt32_t *v = fdt_getprop(r->fdt, off, name, &len);
	*out = -1;
	if (!v)
		return true;
	if (len != 4)
		return fail(r, off, "\"%s\" must be one reference, as <&label>", name);
	for (unsigned i = 0; i < r->nnodes && fdt32_to_cpu(*v); i++) /* 0: a node without one */
		if (r->node[i].phandle == fdt32_to_cpu(*v)) {
			if (r->node[i].kind != k)
				return fail(r, off, "\"%s\" leads to a node that is not a %s", name,
					    kind_compat[k]);
			*out = (int)r->node[i].index;
			return true;
		}
	return fail(r, off, "\"%s\" leads nowhere (no node has phandle %u)", name,
		    fdt32_to_cpu(*v));
}

static bool server(struct reader *r, int off, uint32_t mib_dflt, enum sd_restart restart,
		   struct sd_server *s)
{
	uint32_t mib, prio, limit, cpu;
	int len;
	const char *how = fdt_getprop(r->fdt, off, "restart", &len);
	if (!prop_u32(r, off, "memory-mib", 1, 4096, mib_dflt, &mib) ||
	    !prop_u32(r, off, "priority", 1, PRIO_MAX, PRIO_DEFAULT, &prio) ||
	    !prop_u32(r, off, "restart-limit", 0, 1000, 8, &limit) ||
	    !prop_u32(r, off, "cpu", 0, r->m->ncpus - 1, 0, &cpu)) /* not a guest's */
		return false;
	if (how && len == sizeof("always") && !memcmp(how, "always", (unsigned)len))
		restart = RESTART_ALWAYS;
	else if (how && len == sizeof("never") && !memcmp(how, "never", (unsigned)len))
		restart = RESTART_NEVER;
	else if (how)
		return fail(r, off, "\"restart\" must be \"always\" or \"never\"");
	*s = (struct sd_server){ .quota = (uint64_t)mib << 20, .prio = prio, .cpu = cpu,
				 .restart = restart, .restart_limit = limit };
	return !fdt_get_path(r->fdt, off, s->path, sizeof(s->path)) ||
	       fail(r, off, "the node's path is longer than %u characters", SD_PATH - 1);
}

/* --- Nodes ---------------------------------------------------------------- */

static bool driver(struct reader *r, int off, enum kind k, struct sd_driver *d)
{
	static const uint32_t blk_ids[] = { 0x10011af4, 0x10421af4 }; /* legacy, modern */
	static const uint32_t net_ids[] = { 0x10001af4, 0x10411af4 };
	int len;
	const fdt32_t *v = fdt_getprop(r->fdt, off, "pci-ids", &len);
	if (!server(r, off, 4, RESTART_ALWAYS, &d->s))
		return false;
	d->present = true;
	if (!v) {
		memcpy(d->ids, k == K_BLK_DRIVER ? blk_ids : net_ids, sizeof(blk_ids));
		d->nids = 2;
		return true;
	}
	if (len < 4 || len % 4 || len > (int)sizeof(d->ids))
		return fail(r, off, "\"pci-ids\" must be 1 to 4 numbers, vendor | device << 16");
	d->nids = (unsigned)len / 4;
	for (unsigned i = 0; i < d->nids; i++)
		d->ids[i] = fdt32_to_cpu(v[i]);
	return true;
}

/* Block servers and switches: a driver or none. */
static bool backend(struct reader *r, int off, enum kind k, struct sd_backend *b)
{
	uint32_t ram;
	if (!server(r, off, 16, RESTART_NEVER, &b->s) ||
	    !prop_ref(r, off, k == K_BLOCK ? "disk" : "uplink",
		      k == K_BLOCK ? K_BLK_DRIVER : K_NET_DRIVER, &b->driver) ||
	    !prop_u32(r, off, "ram-disk-mib", 1, 1024, 16, &ram))
		return false;
	if (b->driver >= 0 && fdt_getprop(r->fdt, off, "ram-disk-mib", NULL))
		return fail(r, off, "\"ram-disk-mib\" is for a block server without a disk");
	if (b->driver >= 0) /* at most one of each kind: s->drv is by kind */
		b->driver = k == K_BLOCK ? DRIVER_BLK : DRIVER_NET;
	b->ram_disk_mib = b->driver < 0 && k == K_BLOCK ? ram : 0;
	b->s.quota += b->ram_disk_mib << 20;
	return true;
}

/* Physical CPU of each VCPU: "cpus" in turn (default: VCPU i on CPU i). */
static bool guest_cpus(struct reader *r, int off, struct guest_config *c)
{
	int len;
	const fdt32_t *v = fdt_getprop(r->fdt, off, "cpus", &len);
	if (v && (len < 4 || len % 4 || len > 4 * GUEST_VCPUS_MAX))
		return fail(r, off, "\"cpus\" must be 1 to %u CPU numbers", GUEST_VCPUS_MAX);
	/* every CPU named exists, those no VCPU runs on too (linux.vcpus= may) */
	for (unsigned i = 0; v && i < (unsigned)len / 4; i++)
		if (fdt32_to_cpu(v[i]) >= r->m->ncpus)
			return fail(r, off, "\"cpus\" names CPU %u: the machine has %u",
				    fdt32_to_cpu(v[i]), r->m->ncpus);
	for (unsigned i = 0; i < c->vcpus; i++)
		c->cpu[i] = v ? fdt32_to_cpu(v[i % ((unsigned)len / 4)]) : i % r->m->ncpus;
	return true;
}

static bool guest(struct reader *r, int off, struct sd_guest *g)
{
	struct guest_config *c = &g->cfg;
	uint32_t vcpus, mib = 256;
	if (!server(r, off, 256, RESTART_NEVER, &g->s) ||
	    !prop_u32(r, off, "memory-mib", 16, 3072, 256, &mib) ||
	    !prop_u32(r, off, "vcpus", 1, GUEST_VCPUS_MAX, 2, &vcpus) ||
	    !prop_str(r, off, "kernel", "linux", c->kernel, sizeof(c->kernel)) ||
	    !prop_str(r, off, "initramfs", "initramfs", c->initramfs, sizeof(c->initramfs)) ||
	    !prop_str(r, off, "bootargs", "", c->bootargs, sizeof(c->bootargs)) ||
	    !prop_ref(r, off, "virtio-blk", K_BLOCK, &g->blk) ||
	    !prop_ref(r, off, "virtio-net", K_SWITCH, &g->net) ||
	    !prop_ref(r, off, "virtio-console", K_CONSOLE, &g->con))
		return false;
	c->magic = GUEST_CONFIG_MAGIC;
	c->vcpus = vcpus, c->mem_mib = mib;
	/* by default the VCPUs below the servers, the VMM beside them and the
	 * root task, not above: a busy VMM must not starve the supervisor */
	if (!fdt_getprop(r->fdt, off, "priority", NULL))
		g->s.prio = PRIO_DEFAULT - 1;
	c->prio = g->s.prio;
	g->s.prio = g->s.prio + 1; /* the VMM above its VCPUs: exits are served first */
	g->s.quota = ((uint64_t)mib << 20) + SD_VMM_OVERHEAD;
	c->console_input = fdt_getprop(r->fdt, off, "console-input", NULL) != NULL;
	const char *name = fdt_get_name(r->fdt, off, NULL);
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "guest");
	return guest_cpus(r, off, c);
}

/* --- Passthrough devices: the machine's nodes, by path ------------------- */

/* Whether the kernel gave the root task node d's registers (hyp/root.c:
 * top-level nodes, enabled, not an interrupt controller's or an IOMMU's);
 * the VMM of a guest given any other would start without them, and fail. */
static bool given_to_root(const void *dtb, int d)
{
	int len;
	const char *status = fdt_getprop(dtb, d, "status", &len);
	bool enabled = !status || (len == 5 && !memcmp(status, "okay", 5)) ||
		       (len == 3 && !memcmp(status, "ok", 3));
	return enabled && fdt_parent_offset(dtb, d) == 0 &&
	       !fdt_getprop(dtb, d, "interrupt-controller", NULL) &&
	       !fdt_getprop(dtb, d, "#iommu-cells", NULL);
}

static bool machine_device(struct reader *r, int off, const char *path,
			   struct guest_passthrough *p)
{
	const void *dtb = r->m->dtb;
	int d = dtb ? fdt_path_offset(dtb, path) : -1, len;
	const fdt32_t *reg = d >= 0 ? fdt_getprop(dtb, d, "reg", &len) : NULL;
	if (d < 0)
		return fail(r, off, "passthrough device \"%s\" is not in the machine", path);
	if (!given_to_root(dtb, d))
		return fail(r, off, "passthrough device \"%s\" is not the root task's to give", path);
	if (!reg || len != 16) /* QEMU virt: two address cells, two size cells */
		return fail(r, off, "passthrough device \"%s\" has no single register range", path);
	p->pa = (uint64_t)fdt32_to_cpu(reg[0]) << 32 | fdt32_to_cpu(reg[1]);
	p->size = (uint64_t)fdt32_to_cpu(reg[2]) << 32 | fdt32_to_cpu(reg[3]);
	if (p->pa % 4096 || p->size % 4096 || !p->size || p->pa + p->size < p->pa)
		return fail(r, off, "passthrough device \"%s\" is not whole pages", path);
	const fdt32_t *irq = fdt_getprop(dtb, d, "interrupts", &len);
	/* the SPI's number compared before 32 is added: added, it could wrap */
	if (irq && (len != 12 || fdt32_to_cpu(irq[0]) != 0 || fdt32_to_cpu(irq[1]) >= VGIC_IRQS - 32))
		return fail(r, off, "passthrough device \"%s\": its interrupt is not an SPI below %u",
			    path, VGIC_IRQS);
	p->intid = irq ? fdt32_to_cpu(irq[1]) + 32ull : 0;
	const char *compat = fdt_getprop(dtb, d, "compatible", &len);
	if (!compat || len > (int)sizeof(p->compatible))
		return fail(r, off, "passthrough device \"%s\": no short compatible", path);
	memcpy(p->compatible, compat, (unsigned)len);
	p->compatible_len = (unsigned)len;
	snprintf(p->name, sizeof(p->name), "%s", fdt_get_name(dtb, d, NULL));
	return true;
}

/* Paths, each with its NUL: the last one's ends the property, or libfdt
 * would read the path on past it. */
static bool passthrough(struct reader *r, int off, struct guest_config *c)
{
	int len;
	const char *v = fdt_getprop(r->fdt, off, "passthrough", &len);
	if (v && len > 0 && v[len - 1])
		return fail(r, off, "\"passthrough\" must be strings, device paths");
	for (int at = 0; v && at < len; at += (int)strnlen(v + at, (unsigned)(len - at)) + 1) {
		if (c->npass == GUEST_PASS_MAX)
			return fail(r, off, "more than %u passthrough devices", GUEST_PASS_MAX);
		if (!machine_device(r, off, v + at, &c->pass[c->npass++]))
			return false;
	}
	return true;
}

/* --- The whole -------------------------------------------------------------- */

static bool overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

/* Passthrough devices must not cover the guest's RAM, its emulated devices,
 * each other, or another guest's. */
static bool guest_map(struct reader *r, const struct sd_guest *g, int off)
{
	const struct guest_config *c = &g->cfg;
	const uint64_t taken[][2] = {
		{ GUEST_RAM, c->mem_mib << 20 },
		{ GUEST_GICD, GUEST_GICD_SIZE },
		{ GUEST_GICR, GUEST_VCPUS_MAX * GUEST_GICR_STRIDE },
		{ GUEST_UART, 0x1000 },
		{ GUEST_VIRTIO, VMM_VDEVS * 0x200 },
	};
	for (unsigned i = 0; i < c->npass; i++) {
		const struct guest_passthrough *p = &c->pass[i];
		for (unsigned k = 0; k < sizeof(taken) / sizeof(taken[0]); k++)
			if (overlap(p->pa, p->size, taken[k][0], taken[k][1]))
				return fail(r, off, "passthrough device %s overlaps the guest's %s",
					    p->name, k ? "emulated devices" : "RAM");
		if (p->intid == GUEST_UART_SPI + 32 || (p->intid >= GUEST_VIRTIO_INTID &&
							p->intid < GUEST_VIRTIO_INTID + VMM_VDEVS))
			return fail(r, off, "passthrough device %s's interrupt %lu is the guest's own",
				    p->name, (unsigned long)p->intid);
		for (const struct sd_guest *o = r->s->guest; o <= g; o++)
			for (unsigned k = 0; k < o->cfg.npass && (o != g || k < i); k++)
				if (overlap(p->pa, p->size, o->cfg.pass[k].pa, o->cfg.pass[k].size))
					return fail(r, off, "passthrough device %s overlaps memory "
						    "already given to %s", p->name, o->s.path);
	}
	return true;
}

static bool clients(struct reader *r)
{
	unsigned console = 0;
	for (unsigned i = 0; i < r->s->nguests; i++) {
		struct sd_guest *g = &r->s->guest[i];
		if (g->blk >= 0 && r->s->blk[g->blk].nclients == SD_PORTS)
			return fail(r, 0, "%s: block server has more than %u guests", g->s.path, SD_PORTS);
		if (g->net >= 0 && r->s->net[g->net].nclients == SD_PORTS)
			return fail(r, 0, "%s: switch has more than %u guests", g->s.path, SD_PORTS);
		if (g->con >= 0 && r->s->con.nclients == SD_PORTS)
			return fail(r, 0, "%s: console server has more than %u guests", g->s.path, SD_PORTS);
		g->blk_port = g->blk >= 0 ? ++r->s->blk[g->blk].nclients : 0;
		g->net_port = g->net >= 0 ? ++r->s->net[g->net].nclients : 0;
		/* the console server's port is the guest's number: it marks the
		 * second guest's lines and later ones with it, as the VMM does */
		g->con_port = g->con >= 0 ? (++r->s->con.nclients, i + 1) : 0;
		console += (unsigned)g->cfg.console_input;
	}
	if (console > 1)
		return fail(r, 0, "%u guests ask for console input: one at most", console);
	return true;
}

/* Every driver serves one backend; the quotas fit. */
static bool totals(struct reader *r)
{
	struct system *s = r->s;
	unsigned users[SD_DRIVERS] = { 0 };
	for (unsigned i = 0; i < s->nblk; i++)
		if (s->blk[i].driver >= 0 && users[s->blk[i].driver]++)
			return fail(r, 0, "%s: its disk driver serves another block server", s->blk[i].s.path);
	for (unsigned i = 0; i < s->nnet; i++)
		if (s->net[i].driver >= 0 && users[s->net[i].driver]++)
			return fail(r, 0, "%s: its uplink serves another switch", s->net[i].s.path);
	for (unsigned i = 0; i < SD_DRIVERS; i++)
		if (s->drv[i].present && !users[i])
			return fail(r, 0, "%s: no %s uses this driver", s->drv[i].s.path,
				    i == DRIVER_BLK ? "block server" : "switch");
	s->quota = s->ndrv ? SD_PCI_QUOTA : 0;
	for (unsigned i = 0; i < SD_DRIVERS; i++)
		s->quota += s->drv[i].present ? s->drv[i].s.quota : 0;
	for (unsigned i = 0; i < s->nblk; i++)
		s->quota += s->blk[i].s.quota;
	for (unsigned i = 0; i < s->nnet; i++)
		s->quota += s->net[i].s.quota;
	s->quota += s->ncon ? s->con.s.quota : 0;
	for (unsigned i = 0; i < s->nguests; i++)
		s->quota += s->guest[i].s.quota;
	if (!s->nguests)
		return fail(r, 0, "no guest: nothing to run");
	if (s->quota > r->m->memory)
		return fail(r, 0, "the quotas add up to %lu MiB; the root task has %lu MiB",
			    (unsigned long)(s->quota >> 20), (unsigned long)(r->m->memory >> 20));
	return true;
}

/* Pass one: what each node is. */
static bool classify(struct reader *r)
{
	static const unsigned limit[K_KINDS] = { 1, 1, SD_BACKENDS, SD_BACKENDS, 1, SD_GUESTS };
	unsigned count[K_KINDS] = { 0 };
	int off;
	fdt_for_each_subnode(off, r->fdt, 0) {
		int len;
		const char *compat = fdt_getprop(r->fdt, off, "compatible", &len);
		enum kind k = 0;
		while (k < K_KINDS && !(compat && !strcmp(compat, kind_compat[k])))
			k++;
		if (k == K_KINDS)
			return fail(r, off, compat ? "unknown compatible \"%s\"" : "no compatible",
				    compat);
		if (count[k] == limit[k])
			return fail(r, off, "more than %u %s nodes", limit[k], kind_compat[k]);
		if (fdt_first_subnode(r->fdt, off) >= 0)
			return fail(r, off, "unexpected child node");
		r->node[r->nnodes++] = (struct node){ off, k, count[k]++, fdt_get_phandle(r->fdt, off) };
	}
	return off == -FDT_ERR_NOTFOUND || fail(r, 0, "the tree is damaged (%d)", off);
}

static bool read_node(struct reader *r, const struct node *n)
{
	struct system *s = r->s;
	if (!known_props(r, n->off, kind_props[n->kind]))
		return false;
	switch (n->kind) {
	case K_BLK_DRIVER:
	case K_NET_DRIVER:
		s->ndrv++;
		return driver(r, n->off, n->kind,
			      &s->drv[n->kind == K_BLK_DRIVER ? DRIVER_BLK : DRIVER_NET]);
	case K_BLOCK:
		return backend(r, n->off, n->kind, &s->blk[s->nblk++]);
	case K_SWITCH:
		return backend(r, n->off, n->kind, &s->net[s->nnet++]);
	case K_CONSOLE:
		s->ncon++;
		s->con.driver = -1;
		return server(r, n->off, 16, RESTART_NEVER, &s->con.s);
	default: {
		struct sd_guest *g = &s->guest[s->nguests++];
		return guest(r, n->off, g) && passthrough(r, n->off, &g->cfg) &&
		       guest_map(r, g, n->off);
	}
	}
}

bool sysdesc_parse(const void *fdt, uint64_t size, const struct machine *m, struct system *s)
{
	struct reader r = { .fdt = fdt, .m = m, .s = s };
	static const char *const root_props[] = { "compatible", "model", "#address-cells",
						  "#size-cells", NULL };
	*s = (struct system){ 0 };
	if (size < FDT_V1_SIZE || fdt_check_header(fdt) || fdt_totalsize(fdt) > size)
		return fail(&r, 0, "not a device tree blob (compile it with dtc)");
	const char *compat = fdt_getprop(fdt, 0, "compatible", NULL);
	if (!compat || strcmp(compat, "cairn,system"))
		return fail(&r, 0, "the root node's compatible must be \"cairn,system\"");
	if (!known_props(&r, 0, root_props) || !classify(&r) ||
	    !prop_str(&r, 0, "model", "a system", s->model, sizeof(s->model)))
		return false;
	/* kind by kind: a guest's port numbers follow the guests' order */
	for (enum kind k = 0; k < K_KINDS; k++)
		for (unsigned i = 0; i < r.nnodes; i++)
			if (r.node[i].kind == k && !read_node(&r, &r.node[i]))
				return false;
	return clients(&r) && totals(&r);
}
