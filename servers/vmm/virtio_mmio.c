/* virtio-mmio (version 2, virtio 1.x 4.2.2): the registers of a device
 * whose queues another server serves (servers/lib/vdev.h).  The VMM keeps
 * the transport: features, status, queue set-up and the interrupt status,
 * which it shares with the backend in one page; a queue notification is a
 * kernel doorbell on the backend's notification (or a signal from here),
 * and the backend's completion raises the guest's interrupt through a
 * notification bound to it in the kernel, with no hop through the VMM.
 * The backend says what device it is (ID, queues, features, configuration
 * space) in the shared page.  A library: the Linux VMM and the root task's
 * tests both use it. */
#include "servers/vmm/virtio_mmio.h"

#define MAGIC 0x74726976u   /* "virt" */
#define VENDOR 0x4e524143u  /* "CARN" */
#define QUEUE_MAX 256

enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE = 0x008, R_VENDOR = 0x00c,
	R_DEV_FEAT = 0x010, R_DEV_FEAT_SEL = 0x014, R_DRV_FEAT = 0x020, R_DRV_FEAT_SEL = 0x024,
	R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044,
	R_QUEUE_NOTIFY = 0x050, R_ISR = 0x060, R_ISR_ACK = 0x064, R_STATUS = 0x070,
	R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_DRIVER_LO = 0x090, R_DRIVER_HI = 0x094,
	R_DEVICE_LO = 0x0a0, R_DEVICE_HI = 0x0a4, R_CONFIG_GEN = 0x0fc, R_CONFIG = 0x100,
};
_Static_assert(R_ISR_ACK == R_ISR + 4, "the pair AS_BIND_STATUS serves");

/* Tell the backend: a queue was notified, or the set-up changed. */
static void kick(struct vdev *d) { INV1(SYS_SIGNAL, d->kick, 1); }

static void reset(struct vdev *d)
{
	volatile struct vdev_shared *s = d->sh;
	s->status = 0;
	s->features = 0;
	for (unsigned i = 0; i < VDEV_QUEUES; i++)
		s->q[i] = (struct vdev_queue){ 0 };
	s->broken = 0;
	s->pairs = 0;
	__atomic_store_n(&s->isr, 0, __ATOMIC_RELEASE);
	s->generation++;
	d->drv_features = 0;
	kick(d);
}

/* The queue registers of the selected queue (none beyond what the backend
 * serves). */
static volatile struct vdev_queue *queue(struct vdev *d)
{
	return d->queue_sel < d->nqueues ? &d->sh->q[d->queue_sel] : NULL;
}

static void set_half(volatile uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffull) | (uint64_t)val << 32 : (*v & ~0xffffffffull) | val;
}

/* Configuration space, as the backend wrote it, any size, any offset. */
static uint64_t config_read(struct vdev *d, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		if (off + i < sizeof(d->sh->config))
			v |= (uint64_t)d->sh->config[off + i] << (8 * i);
	return v;
}

static uint64_t reg_read(struct vdev *d, uint64_t off)
{
	volatile struct vdev_queue *q = queue(d);
	switch (off) {
	case R_MAGIC: return MAGIC;
	case R_VERSION: return 2;
	case R_DEVICE: return d->device_id;
	case R_VENDOR: return VENDOR;
	case R_DEV_FEAT: return d->dev_sel < 2 ? (uint32_t)(d->offered >> (32 * d->dev_sel)) : 0;
	case R_QUEUE_NUM_MAX: return q ? QUEUE_MAX : 0;
	case R_QUEUE_READY: return q ? q->ready : 0;
	case R_ISR: /* here only without the kernel's status register, or not 32 bits */
		d->isr_exits++;
		return __atomic_load_n(&d->sh->isr, __ATOMIC_ACQUIRE);
	case R_STATUS: return d->sh->status | (d->sh->broken ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case R_CONFIG_GEN: return 0;
	default: return 0; /* write-only and reserved registers read as zero */
	}
}

static void reg_write(struct vdev *d, uint64_t off, uint32_t v)
{
	volatile struct vdev_queue *q = queue(d);
	switch (off) {
	case R_DEV_FEAT_SEL: d->dev_sel = v; break;
	case R_DRV_FEAT_SEL: d->drv_sel = v; break;
	case R_DRV_FEAT:
		if (d->drv_sel < 2)
			d->drv_features = (d->drv_features & ~(0xffffffffull << (32 * d->drv_sel))) |
					  (uint64_t)v << (32 * d->drv_sel);
		break;
	case R_QUEUE_SEL: d->queue_sel = v; break;
	case R_QUEUE_NUM: if (q && !q->ready && v <= QUEUE_MAX) q->num = v; break;
	case R_QUEUE_READY:
		if (q) {
			q->ready = v & 1;
			d->sh->generation++;
			kick(d);
		}
		break;
	case R_QUEUE_NOTIFY: /* here only without the doorbell */
		d->notify_exits++;
		kick(d);
		break;
	case R_ISR_ACK:
		d->isr_exits++;
		__atomic_fetch_and(&d->sh->isr, ~v, __ATOMIC_RELEASE);
		break;
	case R_STATUS:
		if (v == 0) {
			reset(d);
			break;
		}
		if ((v & 8) && !(d->sh->status & 8)) /* FEATURES_OK: only what was offered */
			if (d->drv_features & ~d->offered)
				v &= ~8u;
		d->sh->features = d->drv_features & d->offered;
		d->sh->status = v;
		break;
	case R_DESC_LO: case R_DESC_HI: if (q && !q->ready) set_half(&q->desc, off & 4, v); break;
	case R_DRIVER_LO: case R_DRIVER_HI: if (q && !q->ready) set_half(&q->avail, off & 4, v); break;
	case R_DEVICE_LO: case R_DEVICE_HI: if (q && !q->ready) set_half(&q->used, off & 4, v); break;
	default: break; /* read-only and reserved: ignored */
	}
}

bool vdev_mmio(struct vdev *d, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	if (ipa < d->base || ipa >= d->base + VDEV_MMIO_SIZE)
		return false;
	if (!d->sh) { /* an empty slot: all zero, magic included */
		*val = acc & VMACC_WRITE ? *val : 0;
		return true;
	}
	uint64_t off = ipa - d->base;
	unsigned size = 1u << (acc & VMACC_SIZE_MASK);
	if (off >= R_CONFIG) {
		if (!(acc & VMACC_WRITE))
			*val = config_read(d, off - R_CONFIG, size);
		return true; /* configuration is read-only */
	}
	if (size != 4 || (off & 3)) /* registers are 32-bit */
		return false;
	if (acc & VMACC_WRITE)
		reg_write(d, off, (uint32_t)*val);
	else
		*val = reg_read(d, off);
	return true;
}

size_t vdev_input(struct vdev *d, const char *s, size_t n)
{
	volatile struct vdev_shared *sh = d->sh;
	if (!sh || d->device_id != VIRTIO_ID_CONSOLE || !(sh->status & 4) || sh->broken ||
	    !sh->q[0].ready)
		return 0;
	uint32_t head = sh->in_head, tail = __atomic_load_n(&sh->in_tail, __ATOMIC_ACQUIRE);
	size_t k = 0;
	for (; k < n && head - tail < VDEV_INPUT; k++)
		sh->in[head++ % VDEV_INPUT] = (uint8_t)s[k];
	__atomic_store_n(&sh->in_head, head, __ATOMIC_RELEASE);
	kick(d);
	return n; /* what the ring had no room for is dropped, as a full UART's is */
}

/* Hand the block server its view: the shared page, the two notifications
 * (the interrupt one bound to the guest's interrupt on VCPU 0 first), then
 * every frame of guest RAM, three to a call. */
static err_t call(cptr_t ep, uint64_t label, uint64_t a, uint64_t b, const cptr_t *caps,
		  unsigned n)
{
	struct sysregs r = { .mr = { a, b }, .nr = SYS_CALL, .cap = ep,
			     .info = msginfo(label, 2, n) };
	for (unsigned i = 0; i < n; i++)
		r.sendcap[i] = caps[i];
	err_t e = sys(&r);
	return e ? e : (err_t)r.mr[0];
}

static err_t setup(struct vdev *d, struct vm *vm)
{
	cptr_t caps[2] = { d->page, d->irq };
	return call(d->ep, VDEV_SETUP, vm->ram_ipa, vm->ram_size, caps, 2);
}

static err_t grant(struct vdev *d, struct vm *vm);

err_t vdev_connect(struct vdev *d, struct vm *vm, unsigned vcpu, unsigned intid, cptr_t ep,
		   cptr_t kick, bool doorbell)
{
	cptr_t page;
	err_t e;
	d->sh = new_page(&page);
	d->kick = kick;
	d->irq = new_obj(OBJ_NOTIFICATION, 0);
	if (!d->sh || !d->kick || !d->irq)
		return E_NOMEM;
	d->page = page;
	if ((e = INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[vcpu].vcpu, d->irq, intid)))
		return e;
	d->irq_vcpu = vcpu;
	d->irq_virq = intid;
	d->doorbell = doorbell &&
		      !INV3(SYS_AS_BIND_DOORBELL, vm->as, d->base + R_QUEUE_NOTIFY, d->kick, 1);
	d->status_in_kernel = doorbell && !INV3(SYS_AS_BIND_STATUS, vm->as, d->base + R_ISR, d->page,
						 __builtin_offsetof(struct vdev_shared, isr));
	d->ep = ep;
	if ((e = setup(d, vm)))
		return e;
	/* what the backend says it is, read once: it could change it later */
	d->device_id = d->sh->device_id;
	d->nqueues = d->sh->nqueues < VDEV_QUEUES ? d->sh->nqueues : VDEV_QUEUES;
	d->offered = d->sh->offered;
	return grant(d, vm);
}

/* A new backend in the old one's place (the supervisor restarted it): the
 * same page and notifications, every frame again.  The queues are in guest
 * RAM and their set-up in the page, so the guest's driver sees no reset:
 * the new backend starts from the used rings. */
err_t vdev_reconnect(struct vdev *d, struct vm *vm)
{
	err_t e;
	if (!d->sh)
		return E_OK;
	if ((e = setup(d, vm)) || (e = grant(d, vm)))
		return e;
	INV1(SYS_SIGNAL, d->kick, 1); /* it sets its queues up from the page now */
	return E_OK;
}

static err_t grant(struct vdev *d, struct vm *vm)
{
	err_t e;
	cptr_t ep = d->ep;
	uint64_t frame = vm->ram_size / vm->npages;
	for (unsigned i = 0; i < vm->npages; i += 3) {
		unsigned n = vm->npages - i < 3 ? vm->npages - i : 3;
		cptr_t f[3] = { vm->ram + i, vm->ram + i + 1, vm->ram + i + 2 };
		if ((e = call(ep, VDEV_GRANT, vm->ram_ipa + i * frame, frame, f, n)))
			return e;
	}
	return E_OK;
}

void vdev_guest_reset(struct vdev *d, struct vm *vm)
{
	if (!d->sh)
		return;
	INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[d->irq_vcpu].vcpu, d->irq, VIRQ_UNBIND);
	reset(d);
	d->dev_sel = d->drv_sel = d->queue_sel = 0;
}

err_t vdev_guest_restart(struct vdev *d, struct vm *vm, unsigned intid)
{
	d->irq_vcpu = 0;
	d->irq_virq = intid;
	return d->sh ? INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[0].vcpu, d->irq, intid) : E_OK;
}

/* The notification follows the route, so completions raise the interrupt
 * where the guest takes it.  One that reached the old VCPU while the
 * guest moved it would wait there, disabled: if the device still shows an
 * interrupt the driver has not acknowledged (ISR), it is raised on the new
 * route, after the binding, so a completion meanwhile is not lost either.
 * Only then: a guest masks and unmasks a pin around each edge it takes on
 * a line being moved (Linux's handle_edge_irq), and a raise at every
 * unmask fed a storm of spurious interrupts (linux-4vcpu-on-2cpus: 100,000
 * unanswered, the IRQ disabled by the guest, its timers starved). */
void vdev_route(struct vdev *d, struct vm *vm, unsigned to, unsigned virq)
{
	if (!d->sh || (to == d->irq_vcpu && virq == d->irq_virq) || to >= vm->nvcpus)
		return;
	INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[d->irq_vcpu].vcpu, d->irq, VIRQ_UNBIND);
	if (INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[to].vcpu, d->irq, virq)) { /* cannot: stays */
		to = d->irq_vcpu, virq = d->irq_virq;
		INV2(SYS_VCPU_BIND_NOTIFICATION, vm->v[to].vcpu, d->irq, virq);
	}
	d->irq_vcpu = to;
	d->irq_virq = virq;
	if (__atomic_load_n(&d->sh->isr, __ATOMIC_ACQUIRE))
		INV1(SYS_VCPU_INJECT, vm->v[to].vcpu, virq);
}

void vdev_release(struct vdev *d)
{
	cptr_t all[] = { d->irq, d->page };
	for (unsigned i = 0; i < 2; i++)
		if (all[i])
			slot_free(all[i]);
	*d = (struct vdev){ .base = d->base };
}
