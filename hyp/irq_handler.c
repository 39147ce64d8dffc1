/* User-level interrupts.  An IRQHandler capability (made from the IRQ
 * control capability) binds a line to a notification.  When the line
 * fires the kernel masks it and signals; the driver acknowledges with
 * SYS_IRQ_ACK, which unmasks it.  Handlers are static objects, one per
 * line: making one costs no memory.  The soft timer lines (irq_timer.c)
 * are lines like any other here, masked and unmasked by their own code.
 * MSI lines (arch_irq_msi_message) are masked here, in software: the mask
 * of an MSI is in the device (its capability or MSI-X table), which is the
 * driver's, not the kernel's, and the interrupt controller has none per
 * vector.  One that comes while masked is remembered and delivered at the
 * unmask, as a masked edge would be held pending by a device. */
#include "hyp/arch.h"
#include "hyp/irq.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"

struct irq_handler {
	struct obj o;
	unsigned irq;
	bool taken, msi, masked, pending; /* masked, pending: MSI lines' */
	struct notification *ntfn; /* referenced */
	uint64_t bits;
};

static struct irq_handler handlers[IRQ_MAX];
static bool kernel_irq[IRQ_MAX];

/* Lines the kernel keeps for itself (its timer, the IPI). */
void irq_reserve(unsigned irq) { kernel_irq[irq] = true; }

static void line_mask(unsigned irq)
{
	if (irq_is_soft_timer(irq))
		soft_timer_mask(irq);
	else
		arch_irq_mask(irq);
}

static void fire(unsigned irq);

static void line_unmask(unsigned irq)
{
	struct irq_handler *h = &handlers[irq];
	h->masked = false;
	if (h->pending) {
		h->pending = false;
		fire(irq);
	}
	if (irq_is_soft_timer(irq))
		soft_timer_unmask(irq);
	else
		arch_irq_unmask(irq);
}

static void fire(unsigned irq)
{
	struct irq_handler *h = &handlers[irq];
	if (h->msi && h->masked) {
		h->pending = true;
		return;
	}
	h->masked = true;
	line_mask(irq);
	if (h->ntfn)
		ntfn_signal(h->ntfn, h->bits);
}

bool irq_handler_destroy(struct obj *o)
{
	struct irq_handler *h = (struct irq_handler *)o;
	if (irq_is_soft_timer(h->irq))
		soft_timer_reset(h->irq);
	else
		arch_irq_mask(h->irq);
	irq_register(h->irq, NULL);
	if (h->ntfn)
		obj_put(&h->ntfn->o);
	h->ntfn = NULL;
	h->taken = false;
	return false; /* static: nothing to free */
}

err_t sys_irq_get(struct thread *t)
{
	struct cap *ctl, *dst;
	uint64_t irq = arg(t, 0);
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_CONTROL, R_WRITE, &ctl)) ||
	    (e = lookup_slot(t, arg(t, 1), arg(t, 2), &dst)))
		return e;
	if (irq >= IRQ_MAX || !(arch_irq_user_ok(irq) || irq_is_soft_timer(irq)) || kernel_irq[irq])
		return E_RANGE;
	if (handlers[irq].taken)
		return E_BUSY;
	if (!cap_empty(dst))
		return E_SLOT;
	struct irq_handler *h = &handlers[irq];
	uint64_t addr, data;
	*h = (struct irq_handler){ .o = { .type = OBJ_IRQ_HANDLER, .order = OBJ_SLAB },
				   .irq = irq, .taken = true, .masked = true,
				   .msi = arch_irq_msi_message(irq, &addr, &data) };
	struct cap v = { .obj = &h->o, .type = OBJ_IRQ_HANDLER, .rights = R_ALL };
	obj_get(&h->o);
	cap_install(dst, &v, ctl);
	irq_register(irq, fire);
	return E_OK;
}

err_t sys_irq_set_notification(struct thread *t)
{
	struct cap *hc, *nc;
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_HANDLER, R_WRITE, &hc)) ||
	    (e = lookup_cap(t, arg(t, 0), OBJ_NOTIFICATION, R_WRITE, &nc)))
		return e;
	struct irq_handler *h = (struct irq_handler *)hc->obj;
	if (h->ntfn)
		obj_put(&h->ntfn->o);
	h->ntfn = (struct notification *)nc->obj;
	h->bits = arg(t, 1) | nc->badge;
	obj_get(nc->obj);
	line_unmask(h->irq);
	return E_OK;
}

/* The line of the handler t names, with the right to drive it. */
static err_t handler_line(struct thread *t, unsigned *irq)
{
	struct cap *hc;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_HANDLER, R_WRITE, &hc);
	if (!e)
		*irq = ((struct irq_handler *)hc->obj)->irq;
	return e;
}

err_t sys_irq_ack(struct thread *t)
{
	unsigned irq;
	err_t e = handler_line(t, &irq);
	if (!e)
		line_unmask(irq);
	return e;
}

err_t sys_irq_set_timer(struct thread *t)
{
	unsigned irq;
	err_t e = handler_line(t, &irq);
	if (!e && !irq_is_soft_timer(irq))
		e = E_INVAL;
	if (!e)
		soft_timer_set(irq, arch_cpu_id(), arg(t, 0));
	return e;
}

/* What the driver programs into its device's MSI capability or MSI-X
 * table entry: the kernel picks the vector (the line) and the CPU. */
err_t sys_irq_msi_message(struct thread *t)
{
	unsigned irq;
	uint64_t addr, data;
	err_t e = handler_line(t, &irq);
	if (!e && !arch_irq_msi_message(irq, &addr, &data))
		e = E_INVAL;
	if (!e)
		set_ret(t, 0, addr), set_ret(t, 1, data);
	return e;
}

__attribute__((weak)) bool arch_irq_msi_message(unsigned irq, uint64_t *addr, uint64_t *data)
{
	(void)irq, (void)addr, (void)data;
	return false;
}
