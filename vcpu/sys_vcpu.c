/* VCPU invocations (x9 = VCPU).  Registers are read and written only while
 * the bound thread is current nowhere, and its privileged state is fetched
 * into memory first (vcpu_fetch: from a CPU it is parked on, that drops the
 * lock, and the invocation starts again). */
#include "hyp/arch.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

/* INTIDs 1020-1023 are special: never an interrupt. */
#define VIRQ_LIMIT 1020

static err_t vcpu_arg(struct thread *t, unsigned rights, struct vcpu **v)
{
	struct cap *c;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_VCPU, rights, &c);
	if (!e)
		*v = (struct vcpu *)c->obj;
	return e;
}

static bool stopped(const struct thread *t) { return t->state == TS_INACTIVE && !thread_running(t); }

/* x0: the thread to bind, or 0 to unbind.  Both need the thread stopped. */
err_t sys_vcpu_bind(struct thread *t)
{
	struct vcpu *v;
	struct cap *tc;
	err_t e = vcpu_arg(t, R_WRITE, &v);
	if (e)
		return e;
	if (arg(t, 0) == 0) {
		if (!v->thread)
			return E_NOENT;
		if (!stopped(v->thread))
			return E_BUSY;
		vcpu_unbind(v->thread);
		return E_OK;
	}
	if ((e = lookup_cap(t, arg(t, 0), OBJ_THREAD, R_WRITE, &tc)))
		return e;
	struct thread *th = (struct thread *)tc->obj;
	if (v->thread || th->vcpu || !stopped(th))
		return E_BUSY;
	if (th->as && !aspace_guest_ok(th->as))
		return E_INVAL; /* its hardware cannot walk that space (x86 VMX: not AS_GUEST) */
	if (!vcpu_fetch(v)) /* parked: it may not be th's CPU */
		return E_RESTART;
	obj_get(&v->o);
	th->vcpu = v;
	th->vcpu_bound = true;
	v->thread = th;
	arch_vcpu_regs_reset(&th->regs);
	return E_OK;
}

static err_t reg_access(struct thread *t, unsigned rights, struct vcpu **v)
{
	err_t e = vcpu_arg(t, rights, v);
	if (e)
		return e;
	if ((*v)->thread && thread_running((*v)->thread))
		return E_BUSY;
	if (arg(t, 0) >= VREG_FIRST_SYS && !vcpu_fetch(*v))
		return E_RESTART;
	return E_OK;
}

err_t sys_vcpu_read_reg(struct thread *t)
{
	struct vcpu *v;
	uint64_t val;
	err_t e = reg_access(t, R_READ, &v);
	if (!e && !(e = arch_vcpu_reg_read(v, arg(t, 0), &val)))
		set_ret(t, 0, val);
	return e;
}

err_t sys_vcpu_write_reg(struct thread *t)
{
	struct vcpu *v;
	err_t e = reg_access(t, R_WRITE, &v);
	if (!e)
		e = arch_vcpu_reg_write(v, arg(t, 0), arg(t, 1));
	return e;
}

err_t sys_vcpu_inject(struct thread *t)
{
	struct vcpu *v;
	err_t e = vcpu_arg(t, R_WRITE, &v);
	if (e)
		return e;
	if (arg(t, 0) >= VIRQ_LIMIT)
		return E_RANGE;
	vcpu_raise(v, (unsigned)arg(t, 0));
	return E_OK;
}

/* A disabled interrupt stays pending and is delivered once enabled. */
err_t sys_vcpu_set_virq(struct thread *t)
{
	struct vcpu *v;
	err_t e = vcpu_arg(t, R_WRITE, &v);
	if (e)
		return e;
	uint64_t virq = arg(t, 0), on = arg(t, 1);
	if (virq >= VIRQ_LIMIT)
		return E_RANGE;
	if (on > 1)
		return E_INVAL;
	uint64_t bit = 1ull << (virq % 64);
	if (on) {
		v->disabled[virq / 64] &= ~bit;
		if (v->pending[virq / 64] & bit)
			vcpu_raise(v, (unsigned)virq); /* wakes it now */
	} else {
		v->disabled[virq / 64] |= bit;
	}
	return E_OK;
}

/* x0 notification, x1 virtual interrupt: each signal raises it (x1 =
 * VIRQ_UNBIND: no longer).  The notification must be free: no bound
 * thread, no waiters, no other VCPU. */
err_t sys_vcpu_bind_notification(struct thread *t)
{
	struct vcpu *v;
	struct cap *nc;
	err_t e = vcpu_arg(t, R_WRITE, &v);
	if (e || (e = lookup_cap(t, arg(t, 0), OBJ_NOTIFICATION, R_READ, &nc)))
		return e;
	struct notification *n = (struct notification *)nc->obj;
	uint64_t virq = arg(t, 1);
	if (virq == VIRQ_UNBIND) {
		if (n->vcpu != v)
			return E_NOENT;
		n->vcpu = NULL;
		obj_put(&v->o);
		return E_OK;
	}
	if (virq >= VIRQ_LIMIT)
		return E_RANGE;
	if (n->vcpu || n->bound || n->waiters)
		return E_BUSY;
	obj_get(&v->o);
	n->vcpu = v;
	n->virq = (uint32_t)virq;
	return E_OK;
}
