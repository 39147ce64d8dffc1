/* virtio-mmio devices whose queues a backend server serves
 * (virtio_mmio.c, servers/lib/vdev.h). */
#pragma once
#include "servers/lib/vdev.h"
#include "servers/vmm/vm.h"

#define VDEV_MMIO_SIZE 0x200ull

struct vdev {
	uint64_t base;                 /* its registers' IPA */
	volatile struct vdev_shared *sh; /* shared with the backend; NULL: an empty slot */
	cptr_t page, kick, irq;        /* the shared page; notifications to the backend (not ours), to the guest */
	cptr_t ep;                     /* the backend's endpoint (not ours) */
	unsigned irq_vcpu;             /* the VCPU (index) `irq` raises its interrupt on */
	unsigned irq_virq;             /* and its virtual interrupt there */
	uint32_t device_id, nqueues;   /* as the backend said at set-up */
	uint64_t offered;
	uint32_t dev_sel, drv_sel, queue_sel;
	uint64_t drv_features;
	bool doorbell;                 /* the notify register rings the backend directly */
	bool status_in_kernel;         /* the kernel serves the interrupt status and ACK */
	uint64_t notify_exits;         /* notify writes that came to the VMM instead */
	uint64_t isr_exits;            /* interrupt status reads and acknowledgements */
};

/* Join d (base set) to the backend that receives on ep and waits on the
 * notification kick (the caller's; it stays the caller's): its completions
 * raise `intid` on VCPU `vcpu` of vm; `doorbell`: the notify register rings
 * the backend in the kernel, and the kernel serves the interrupt status
 * and its acknowledgement (AS_BIND_STATUS) from the shared page.  Every
 * frame of vm's RAM is granted. */
err_t vdev_connect(struct vdev *d, struct vm *vm, unsigned vcpu, unsigned intid, cptr_t ep,
		   cptr_t kick, bool doorbell);
/* A guest access at ipa: false when it is not d's. */
bool vdev_mmio(struct vdev *d, uint64_t ipa, uint64_t acc, uint64_t *val);
/* The guest resets (its VCPUs about to go): the device resets and its
 * interrupt is unbound; then bound to the new VCPU 0. */
void vdev_guest_reset(struct vdev *d, struct vm *vm);
err_t vdev_guest_restart(struct vdev *d, struct vm *vm, unsigned intid);
/* The guest's interrupt controller now routes the device's interrupt to
 * virtual interrupt `virq` of VCPU `to`. */
void vdev_route(struct vdev *d, struct vm *vm, unsigned to, unsigned virq);
/* Its backend was restarted: connect to the new one, as it was. */
err_t vdev_reconnect(struct vdev *d, struct vm *vm);
/* Typed input for a virtio-console whose driver is ready (DRIVER_OK, its
 * receive queue set up): into the shared ring, the backend kicked.  The
 * bytes taken: all of them (what finds the ring full is dropped), or 0
 * when d is not such a console, so the PL011 gets them. */
size_t vdev_input(struct vdev *d, const char *s, size_t n);
/* The VMM's side goes (the backend keeps its mappings until it dies). */
void vdev_release(struct vdev *d);
