/* The Linux VMM (cairn.root=linux): boots the "linux" boot module (an arm64
 * or riscv64 Image) with the "initramfs" module on a guest of linux.vcpus VCPUs
 * (default 2) and linux.mem MiB of RAM (default 256), and serves its exits
 * until it powers off; a reset boots it again.  Bootargs: linux.quiet (the
 * guest boots quietly), linux.test (its init powers off once it has
 * reported), linux.reboot (its init writes a file on its disk and resets,
 * then finds it), linux.bench (its init times its disk: tools/virtio-blk-ratio),
 * linux.disk (its init writes 64 MiB on its disk and reads them back),
 * linux.nettest (its init fetches a page from the host through the network),
 * linux.netbench (it times a 32 MiB download and a 32 MiB upload:
 * tools/virtio-net-ratio),
 * linux.g2gbench (every guest: the second serves 32 MiB, the first times
 * fetching it: tools/virtio-net-g2g-ratio),
 * linux.doorbell=0 (queue notifications through the VMM). */
#include "servers/lib/bootmod.h"
#include "servers/vmm/vmm.h"

#define MODULES_VA 0x2000000000ull   /* where this task reads the boot modules */
#define CONFIG_VA 0x2800000000ull    /* its configuration page, read-only */

unsigned vmm_index = 1;
#define IMAGE_OFFSET 0x200000ull     /* arm64 and riscv64 Images: 2 MiB-aligned */

static struct vmm vmm;

/* Aligned 8-byte copies: a byte loop takes seconds over an Image under TCG. */
static void copy(void *d, const void *s, uint64_t n)
{
	uint64_t *dw = d;
	const uint64_t *sw = s;
	for (uint64_t i = 0; i < n / 8; i++)
		dw[i] = sw[i];
	memcpy((char *)d + n / 8 * 8, (const char *)s + n / 8 * 8, n % 8);
}

err_t vmm_start_vcpu(struct vmm *m, unsigned i, uint64_t pc, uint64_t a0, uint64_t a1)
{
	struct vm *vm = &m->vm;
	err_t e;
	if (i > vm->nvcpus)
		return E_RANGE; /* made in order, as Linux starts them */
	if (i == vm->nvcpus) {
		char name[16];
		if ((e = vm_add_vcpu(vm, pc, a0, a1, 0, m->cpu_of[i], (unsigned)m->cfg->prio)))
			return e;
		snprintf(name, sizeof(name), "g%u.vcpu%u", vmm_index, i);
		thread_name(vm->v[i].thread, name);
		arch_vcpu_init(m, i);
	} else if ((e = arch_vcpu_restart(m, i, pc, a0))) {
		return e;
	}
	m->running[i] = true;
	return vm_start(vm, i);
}

static const char *exit_name(uint64_t l)
{
	static const char *const names[] = { "data abort", "insn abort", "hvc", "smc",
					     "sysreg", "other" };
	return l >= VMEXIT_DATA_ABORT && l <= VMEXIT_OTHER ? names[l - VMEXIT_DATA_ABORT] : "?";
}

void vmm_refuse(const struct vm_exit *x, uint64_t *reply)
{
	static unsigned told;
	if (told++ < 8)
		printf("vmm: refused %s on vcpu %u at pc 0x%lx (0x%lx, syndrome 0x%lx)\n",
		       exit_name(x->label), vm_exit_vcpu(x), x->w[1], x->w[0], x->w[2]);
	reply[0] = VMREPLY_ABORT;
}

static bool virtio_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	for (unsigned k = 0; k < VMM_VDEVS; k++)
		if (vdev_mmio(&m->dev[k], ipa, acc, val))
			return true;
	return false;
}

/* Answer one exit; false: do not resume that VCPU. */
static bool handle(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	uint64_t acc = x->w[3], val = x->w[4];
	reply[0] = VMREPLY_ADVANCE;
	if (x->label != VMEXIT_DATA_ABORT)
		return arch_exit(m, x, reply);
	if (!(acc & VMACC_VALID) || !(arch_mmio(m, vm_exit_vcpu(x), x->w[0], acc, &val) ||
				      virtio_mmio(m, x->w[0], acc, &val))) {
		vmm_refuse(x, reply);
		return true;
	}
	if (!(acc & VMACC_WRITE)) {
		reply[0] |= VMREPLY_READ;
		reply[1] = val;
	}
	return true;
}

/* Console input and passed-through devices' interrupts: each line
 * delivered to the notification bound to this thread (console bit 0,
 * device k bit k + 1), so that it arrives in the exit loop's receive. */
static cptr_t input_irq, pass_irq[GUEST_PASS_MAX], events;

cptr_t vmm_claim_irq(uint64_t irq, unsigned bit)
{
	cptr_t h = slot_alloc();
	if (!h)
		return 0;
	if (INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, irq, ROOT_CNODE, h) ||
	    INV2(SYS_IRQ_SET_NOTIFICATION, h, events, 1ull << bit)) {
		slot_free(h);
		return 0;
	}
	return h;
}

static void input_start(const struct vmm *m)
{
	uint64_t id[5];
	/* the root's notification, which names this guest, where there is one:
	 * it signals VMM_EVENT_RECONNECT on it too */
	events = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, VMM_SLOT_ID, 0, 0, 0, 0, 0, id) &&
			 id[0] == OBJ_NOTIFICATION ? VMM_SLOT_ID : new_obj(OBJ_NOTIFICATION, 0);
	if (!events || INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, events))
		return;
	if (m->cfg->console_input &&
	    (bootinfo->console_irq == ~0ull || !(input_irq = vmm_claim_irq(bootinfo->console_irq, 0))))
		printf("vmm: no console input (irq %lu)\n", bootinfo->console_irq);
	for (unsigned k = 0; k < m->cfg->npass; k++)
		if (m->cfg->pass[k].intid && !(pass_irq[k] = vmm_claim_irq(m->cfg->pass[k].intid, k + 1)))
			printf("vmm: %s: its interrupt %lu is not ours\n", m->cfg->pass[k].name,
			       m->cfg->pass[k].intid);
}

/* Everything the console holds now, to the guest. */
static void drain(struct vmm *m)
{
	uint64_t r[5];
	while (inv(SYS_DEBUG_READ, ROOT_CONSOLE, 0, 0, 0, 0, 0, 0, r) == E_OK && r[1]) {
		char s[8];
		unsigned n = 0;
		for (unsigned i = 0; i < r[1] && i < 8; i++) {
			s[n] = (char)(r[0] >> (8 * i));
			if (s[n] == MONITOR_CHAR) /* the monitor's key, not the guest's */
				INV1(SYS_SIGNAL, VMM_SLOT_MONITOR, MONITOR_KEY);
			else
				n++;
		}
		/* hvc0 once the guest's virtio-console is up, the PL011 before */
		size_t taken = 0;
		for (unsigned k = 0; k < VMM_VDEVS && !taken; k++)
			taken = vdev_input(&m->dev[k], s, n);
		if (!taken)
			vcons_input(m, s, n);
	}
}

/* Drained, acked, drained again: where the line is edge-triggered (x86_64's
 * COM1 on the IOAPIC) a rise while it was masked, between the first drain
 * and the ack, is lost for good, and only the second drain takes what
 * raised it (and lowers the line, so that the next byte raises it again). */
static void input(struct vmm *m)
{
	if (!input_irq)
		return;
	drain(m);
	INV0(SYS_IRQ_ACK, input_irq);
	drain(m);
}

/* A passed-through device raised its line: the guest sees the same SPI.
 * The line is unmasked at once; a level-triggered device holds it until
 * the guest's driver clears it, and raising a pending SPI again is no
 * change, so the cost of a line still high is a few exits, not a loss. */
static void pass_events(struct vmm *m, uint64_t bits)
{
	for (unsigned k = 0; k < m->cfg->npass; k++)
		if (pass_irq[k] && bits >> (k + 1) & 1) {
			arch_raise_irq(m, (unsigned)m->cfg->pass[k].intid);
			INV0(SYS_IRQ_ACK, pass_irq[k]);
		}
}

/* Each passed-through device's registers at their own address in the
 * guest, from the device frames the root task gave this VMM. */
static bool pass_map(struct vmm *m)
{
	for (unsigned k = 0; k < m->cfg->npass; k++) {
		const struct guest_passthrough *p = &m->cfg->pass[k];
		for (uint64_t at = p->pa; at < p->pa + p->size;) {
			uint64_t off, info[5];
			cptr_t f = device_frame(at, &off), g = slot_alloc();
			if (!f || off || !g || inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, info) ||
			    INV4(SYS_CNODE_COPY, ROOT_CNODE, g, ROOT_CNODE, f, R_READ | R_WRITE) ||
			    INV3(SYS_AS_MAP, m->vm.as, g, at, R_READ | R_WRITE)) {
				printf("vmm: %s: its registers at 0x%lx are not ours\n", p->name, at);
				return false;
			}
			at += info[0];
		}
		printf("vmm: %s passed through: 0x%lx, %lu KiB, interrupt %lu\n", p->name, p->pa,
		       p->size >> 10, p->intid);
	}
	return true;
}

static void serve(struct vmm *m, cptr_t ep)
{
	struct vm_exit x;
	uint64_t reply[5] = { 0 };
	err_t e = vm_wait(ep, &x);
	while (!e) {
		if (x.label == MSG_LABEL_NOTIFY) { /* typed input or a device, not an exit */
			if (x.badge & 1)
				input(m);
			if (x.badge & VMM_EVENT_RECONNECT)
				virtio_reconnect(m);
			pass_events(m, x.badge);
			arch_events(m, x.badge);
			e = vm_wait(ep, &x);
			continue;
		}
		m->exits++;
		bool resume = handle(m, &x, reply);
		if (m->stopped)
			return;
		e = resume ? vm_reply_wait(ep, reply, &x) : vm_wait(ep, &x);
	}
	printf("vmm: receive failed (%u)\n", e);
	m->stopped = "lost";
}

/* Guest RAM layout: the Image 2 MiB in, the initramfs at the middle, the
 * DTB in the 2 MiB below it. */
static bool load(struct vmm *m, const struct bootmod *img, const struct bootmod *rd,
		 uint64_t *entry, uint64_t *dtb)
{
	struct vm *vm = &m->vm;
	uint64_t rd_off = vm->ram_size / 2, dtb_off = rd_off - 0x200000;
	const char *base = (const char *)MODULES_VA;
	if (IMAGE_OFFSET + img->size > dtb_off || rd_off + rd->size > vm->ram_size) {
		printf("vmm: the Image and initramfs do not fit %lu MiB\n", vm->ram_size >> 20);
		return false;
	}
	copy(vm->ram_va + IMAGE_OFFSET, base + img->offset, img->size);
	copy(vm->ram_va + rd_off, base + rd->offset, rd->size);
	char args[448];
	bool first = vmm_index == 1; /* the tests' guest; the others only boot */
	snprintf(args, sizeof(args), "%s%s%s%s%s%s%s%s%s%s %.255s",
		 arch_console_args, strstr(bootinfo->bootargs, "linux.quiet") ? " quiet" : "",
		 first && strstr(bootinfo->bootargs, "linux.pingtest") ? " cairn.ping" : "",
		 first && strstr(bootinfo->bootargs, "linux.test") ? " cairn.test" : "",
		 first && strstr(bootinfo->bootargs, "linux.reboot") ? " cairn.reboot" : "",
		 first && strstr(bootinfo->bootargs, "linux.bench") ? " cairn.bench" : "",
		 first && strstr(bootinfo->bootargs, "linux.disk") ? " cairn.disk" : "",
		 first && strstr(bootinfo->bootargs, "linux.nettest") ? " cairn.net" : "",
		 first && strstr(bootinfo->bootargs, "linux.netbench") ? " cairn.netbench" : "",
		 strstr(bootinfo->bootargs, "linux.g2gbench") ? " cairn.g2g" : "", /* every guest */
		 m->cfg->bootargs);
	if (!guest_fdt(m, vm->ram_va + dtb_off, 0x200000, args, vm->ram_ipa + rd_off, rd->size))
		return false;
	*entry = arch_entry(vm->ram_va + IMAGE_OFFSET, vm->ram_ipa + IMAGE_OFFSET);
	*dtb = vm->ram_ipa + dtb_off;
	return true;
}

/* Each backend the root task gave this VMM (device i: its endpoint at
 * VMM_SLOT_VDEV(i), its notification in the slot after) becomes
 * virtio-mmio slot i; after VCPU 0 exists.  The notify register rings the
 * backend from the kernel, and the kernel answers the interrupt status and
 * its acknowledgement (linux.doorbell=0: both through here, to compare). */
static void virtio_describe(const struct vdev *d, unsigned intid)
{
	const char *how = d->doorbell ? d->status_in_kernel ? "by kernel doorbell, interrupt status "
							     "in the kernel" : "by kernel doorbell"
				      : "through this VMM";
	const volatile uint8_t *c = d->sh->config;
	uint64_t sectors;
	if (d->device_id == VIRTIO_ID_BLOCK) {
		memcpy(&sectors, (const void *)c, 8);
		printf("vmm: virtio-blk at 0x%lx (interrupt %u), %lu MiB, served by the block "
		       "server; queue notifications %s\n", d->base, intid, sectors >> 11, how);
	} else if (d->device_id == VIRTIO_ID_NET) {
		printf("vmm: virtio-net at 0x%lx (interrupt %u), MAC %02x:%02x:%02x:%02x:%02x:%02x, "
		       "served by the net server; queue notifications %s\n", d->base, intid, c[0],
		       c[1], c[2], c[3], c[4], c[5], how);
	} else if (d->device_id == VIRTIO_ID_CONSOLE) {
		printf("vmm: virtio-console at 0x%lx (interrupt %u), served by the console server; "
		       "queue notifications %s\n", d->base, intid, how);
	}
}

void virtio_start(struct vmm *m)
{
	for (unsigned i = 0; i < VMM_VDEVS; i++) {
		struct vdev *d = &m->dev[i];
		uint64_t info[5];
		if (inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, VMM_SLOT_VDEV(i), 0, 0, 0, 0, 0, info) ||
		    info[0] != OBJ_ENDPOINT)
			continue; /* an empty slot */
		err_t e = vdev_connect(d, &m->vm, 0, ARCH_UNROUTED_VIRQ(GUEST_VIRTIO_INTID + i), VMM_SLOT_VDEV(i),
				       VMM_SLOT_VDEV(i) + 1, bootarg_u64("linux.doorbell=", 1));
		if (e)
			printf("vmm: virtio slot %u: its backend refused (%u)\n", i, e);
		else
			virtio_describe(d, GUEST_VIRTIO_INTID + i);
	}
}

void vmm_irq_routed(struct vmm *m, unsigned intid, unsigned vcpu, unsigned virq)
{
	unsigned i = intid - GUEST_VIRTIO_INTID;
	if (intid >= GUEST_VIRTIO_INTID && i < VMM_VDEVS)
		vdev_route(&m->dev[i], &m->vm, vcpu, virq);
}

/* The supervisor restarted a backend: every device reconnects (the
 * others' backends take it as a fresh set-up of the same client). */
void virtio_reconnect(struct vmm *m)
{
	for (unsigned i = 0; i < VMM_VDEVS; i++)
		if (m->dev[i].sh) {
			err_t e = vdev_reconnect(&m->dev[i], &m->vm);
			printf("vmm: virtio slot %u %s its backend\n", i, e ? "could not reconnect to" : "reconnected to");
		}
}

void virtio_report(const struct vmm *m)
{
	for (unsigned i = 0; i < VMM_VDEVS; i++) {
		const struct vdev *d = &m->dev[i];
		if (d->sh)
			printf("vmm: virtio-%s served %lu requests; %lu queue notifications reached "
			       "this VMM, and %lu interrupt status accesses\n",
			       d->device_id == VIRTIO_ID_BLOCK ? "blk"
			       : d->device_id == VIRTIO_ID_NET ? "net" : "console", d->sh->requests,
			       d->notify_exits, d->isr_exits);
	}
}

/* What the root task says this guest is (servers/vmm/guest.h), checked. */
static const struct guest_config *config(void)
{
	const struct guest_config *c = (const void *)CONFIG_VA;
	if (INV3(SYS_AS_MAP, ROOT_ASPACE, VMM_SLOT_CONFIG, CONFIG_VA, R_READ) ||
	    c->magic != GUEST_CONFIG_MAGIC || c->vcpus < 1 || c->vcpus > VM_MAX_VCPUS ||
	    c->npass > GUEST_PASS_MAX || c->prio < 1 || c->prio > ROOT_MCP)
		return NULL;
	for (unsigned i = 0; i < c->vcpus; i++)
		if (c->cpu[i] >= bootinfo->ncpus)
			return NULL;
	/* what indexes this VMM's arrays and bounds its copies, checked here too */
	for (unsigned k = 0; k < c->npass; k++)
		if ((c->pass[k].intid && !VMM_PASS_IRQ_OK(c->pass[k].intid)) ||
		    c->pass[k].compatible_len > sizeof(c->pass[k].compatible) ||
		    c->pass[k].pa + c->pass[k].size < c->pass[k].pa)
			return NULL;
	return c;
}

void run_linux(void)
{
	struct vmm *m = &vmm;
	const struct bootmod_header *h = bootmod_map(MODULES_VA);
	if (!(m->cfg = config())) {
		printf("vmm: no configuration from the root task\n");
		return;
	}
	const struct bootmod *img = h ? bootmod_find(h, m->cfg->kernel) : NULL;
	const struct bootmod *rd = h ? bootmod_find(h, m->cfg->initramfs) : NULL;
	if (!img || !rd) {
		printf("vmm: no \"%.47s\" and \"%.47s\" boot modules in the initrd\n", m->cfg->kernel,
		       m->cfg->initramfs);
		return;
	}
	for (unsigned i = 0; i < VMM_VDEVS; i++)
		m->dev[i].base = GUEST_VIRTIO + i * VDEV_MMIO_SIZE;
	m->nvcpus = (unsigned)m->cfg->vcpus;
	uint64_t mem = m->cfg->mem_mib << 20;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	uint64_t entry, dtb;
	if (!ep || vm_create(&m->vm, 1, ep, GUEST_RAM, mem, NULL, 0) || !load(m, img, rd, &entry, &dtb)) {
		printf("vmm: cannot make the guest (%lu MiB)\n", mem >> 20);
		return;
	}
	printf("vmm: linux guest: %lu MiB RAM at 0x%lx, Image %lu KiB, initramfs %lu KiB\n",
	       mem >> 20, m->vm.ram_ipa, img->size >> 10, rd->size >> 10);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		m->cpu_of[i] = (unsigned)m->cfg->cpu[i];
		printf("vmm: vcpu %u runs on cpu %u\n", i, m->cpu_of[i]);
	}
	printf("vmm: this VMM serves exits and console input on cpu 0\n");
	input_start(m);
	input(m); /* what was typed before the line was ours: its rise went unseen */
	uint64_t a[2];
	arch_boot_args(dtb, a);
	if (!pass_map(m) || vmm_start_vcpu(m, 0, entry, a[0], a[1]) != E_OK)
		goto out;
	virtio_start(m);
	for (unsigned boots = 1;; boots++) {
		serve(m, ep);
		if (!m->stopped || strcmp(m->stopped, "reset") || boots == 100)
			break;
		/* PSCI SYSTEM_RESET: the same RAM, its devices reset, the
		 * Image loaded again; the block server keeps its disk. */
		printf("vmm: guest reset after %lu exits: booting it again\n", m->exits);
		for (unsigned i = 0; i < VMM_VDEVS; i++)
			vdev_guest_reset(&m->dev[i], &m->vm);
		vm_destroy_vcpus(&m->vm);
		m->arch = (struct vmm_arch){ 0 };
		m->cons = (struct vcons){ 0 };
		for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
			m->running[i] = false;
		m->stopped = NULL;
		bool loaded = load(m, img, rd, &entry, &dtb);
		arch_boot_args(dtb, a);
		err_t e = loaded ? vmm_start_vcpu(m, 0, entry, a[0], a[1]) : E_NOMEM;
		for (unsigned i = 0; i < VMM_VDEVS && !e; i++)
			e = vdev_guest_restart(&m->dev[i], &m->vm,
					       ARCH_UNROUTED_VIRQ(GUEST_VIRTIO_INTID + i));
		if (e)
			break;
	}
out:
	printf("vmm: guest %s after %lu exits\n", m->stopped ? m->stopped : "failed", m->exits);
	virtio_report(m);
	vm_destroy(&m->vm);
	slot_free(ep);
}
