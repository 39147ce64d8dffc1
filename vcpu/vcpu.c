/* VCPUs: the object, binding, virtual interrupts, state switching and the
 * trap entries from guests.  The invocations are in vcpu/sys_vcpu.c, the
 * ISA's registers in arch/<arch>/vcpu.c. */
#include "hyp/arch.h"
#include "hyp/bits.h"
#include "hyp/cpu.h"
#include "hyp/kernel.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/memory.h"
#include "vcpu/vcpu.h"

/* The guest's timer came due while its VCPU was not loaded. */
static void vtimer_fire(struct ktimer *k)
{
	struct vcpu *v = (struct vcpu *)((char *)k - __builtin_offsetof(struct vcpu, vtimer));
	arch_vcpu_timer_fired(&v->arch);
	v->hw_stale = true;
	vcpu_raise(v, VIRQ_VTIMER);
}

err_t vcpu_create(struct memory *payer, struct vcpu **out)
{
	err_t e = obj_alloc(payer, OBJ_VCPU, sizeof(struct vcpu), (struct obj **)out);
	if (e)
		return e;
	struct vcpu *v = *out;
	ktimer_init(&v->vtimer, vtimer_fire);
	v->hw_cpu = -1;
	arch_vcpu_reset(&v->arch);
	return E_OK;
}

bool vcpu_destroy(struct obj *o)
{
	struct vcpu *v = (struct vcpu *)o;
	assert(!v->thread); /* a bound thread holds a reference */
	ktimer_cancel(&v->vtimer);
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (cpus[i].vcpu_hw == v)
			cpus[i].vcpu_hw = NULL;
	return true;
}

void vcpu_unbind(struct thread *t)
{
	struct vcpu *v = t->vcpu;
	t->vcpu = NULL;
	v->thread = NULL;
	arch_regs_init(&t->regs);
	obj_put(&v->o);
}

/* Both look only at words with something pending: on the way into a
 * guest that has nothing waiting, that is one test. */
bool vcpu_has_deliverable(const struct vcpu *v)
{
	for (uint32_t ws = v->pending_words; ws; ws &= ws - 1) {
		unsigned i = bit_lowest(ws);
		if (v->pending[i] & ~v->disabled[i])
			return true;
	}
	return false;
}

int vcpu_take_deliverable(struct vcpu *v)
{
	for (uint32_t ws = v->pending_words; ws; ws &= ws - 1) {
		unsigned i = bit_lowest(ws);
		uint64_t w = v->pending[i] & ~v->disabled[i];
		if (w) {
			unsigned b = bit_lowest(w);
			v->pending[i] &= ~(1ull << b);
			if (!v->pending[i])
				v->pending_words &= ~(1u << i);
			return (int)(i * 64 + b);
		}
	}
	return -1;
}

void vcpu_raise(struct vcpu *v, unsigned virq)
{
	vcpu_set_pending(v, virq);
	struct thread *t = v->thread;
	if (!t || (v->disabled[virq / 64] >> (virq % 64) & 1))
		return;
	if (t->state == TS_BLOCKED_WFI)
		thread_make_runnable(t);
	else if (t->running && t->running->cpu != arch_cpu_id())
		thread_kick(t->running->cpu); /* its entry loads the list registers */
}

void vcpu_switch_slow(struct thread *t, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	struct vcpu *v = t->vcpu;
	if (!v) {
		arch_vcpu_native_mode();
		c->guest_mode = false;
		return;
	}
	if (c->vcpu_in != v) {
		bool lazy = c->vcpu_hw == v && v->hw_cpu == (int)cpu && !v->hw_stale;
		ktimer_cancel(&v->vtimer);
		arch_vcpu_load(&v->arch, lazy, c->guest_mode);
		c->vcpu_in = c->vcpu_hw = v;
		c->guest_mode = true;
		v->hw_cpu = (int)cpu;
		v->hw_stale = false;
	}
	arch_vcpu_flush_virqs(v);
}

void vcpu_leave(struct thread *t, unsigned cpu)
{
	struct vcpu *v = t->vcpu;
	if (cpus[cpu].vcpu_in != v)
		return; /* chosen but never entered */
	arch_vcpu_save(&v->arch);
	cpus[cpu].vcpu_in = NULL;
	uint64_t due = arch_vcpu_timer_deadline(&v->arch);
	if (due != ~0ull)
		ktimer_arm(&v->vtimer, cpu, due);
}

_Noreturn void kernel_vcpu_exit(struct thread *t, enum vmexit_label l, const uint64_t *w)
{
	unsigned cpu = arch_cpu_id();
	spin_lock(&bkl);
	if (kernel_entry_void(t, cpu))
		kernel_exit(); /* it exits again when it next runs */
	t->fault_label = l;
	t->fault_kind = KMSG_VMEXIT;
	t->fault_len = VMEXIT_WORDS;
	for (unsigned i = 0; i < VMEXIT_WORDS; i++)
		t->fault[i] = w[i];
	t->fault_pending = true;
	struct thread *vmm = ipc_fastpath_kmsg(t, &t->fault_ep, cpu);
	if (vmm)
		kernel_enter(vmm, cpu);
	t->fault_pending = false;
	if (!fault_send(t)) {
		printk("cairn: guest exit %u at pc 0x%lx (0x%lx), no VMM endpoint: suspended\n",
		       (unsigned)l, w[1], w[0]);
		thread_suspend(t);
	}
	kernel_exit();
}

/* WFI blocks until a virtual interrupt is deliverable (the arch has stepped
 * over the instruction: a WFI may always complete early); WFE, a guest's
 * spin-wait, ends the timeslice. */
_Noreturn void kernel_vcpu_wait(struct thread *t, bool wfe)
{
	spin_lock(&bkl);
	unsigned cpu = arch_cpu_id();
	if (!kernel_entry_void(t, cpu)) {
		struct vcpu *v = t->vcpu;
		if (wfe)
			sched_end_slice(sched_of(cpu));
		else if (!vcpu_has_deliverable(v) && !arch_vcpu_virq_pending(&v->arch))
			thread_block(t, TS_BLOCKED_WFI, NULL);
	}
	kernel_exit();
}

static err_t hc_call(struct thread *t, struct arch_regs *r)
{
	struct cap *c;
	uint64_t info = *regs_gpr(r, HC_REG_INFO);
	err_t e = lookup_cap(t, *regs_gpr(r, HC_REG_CAP), OBJ_ENDPOINT, R_WRITE, &c);
	if (e)
		return e;
	if (msginfo_len(info) > HC_MSG_WORDS || msginfo_caps(info) || (info & MSG_MOVE))
		return E_INVAL;
	t->fault_label = msginfo_label(info);
	t->fault_kind = KMSG_HCALL;
	t->fault_len = (uint8_t)msginfo_len(info);
	for (unsigned i = 0; i < t->fault_len; i++)
		t->fault[i] = *regs_gpr(r, HC_REG_MR0 + i);
	t->fault_pending = true;
	struct thread *server = ipc_fastpath_kmsg(t, c, arch_cpu_id());
	if (server)
		kernel_enter(server, arch_cpu_id());
	return ep_send(t, (struct endpoint *)c->obj, c, true, true);
}

static err_t hc_signal(struct thread *t, struct arch_regs *r)
{
	struct cap *c;
	err_t e = lookup_cap(t, *regs_gpr(r, HC_REG_CAP), OBJ_NOTIFICATION, R_WRITE, &c);
	if (!e)
		ntfn_signal((struct notification *)c->obj, *regs_gpr(r, HC_REG_INFO) | c->badge);
	return e;
}

/* A hypercall in Cairn's range (the arch checked the range and left the pc
 * on the instruction, so a void entry makes it again). */
_Noreturn void kernel_vcpu_hypercall(struct thread *t)
{
	spin_lock(&bkl);
	if (kernel_entry_void(t, arch_cpu_id()))
		kernel_exit();
	struct arch_regs *r = &t->regs;
	arch_regs_set_pc(r, arch_regs_pc(r) + HC_INSN_BYTES);
	uint64_t fn = *regs_gpr(r, HC_REG_FN);
	err_t e = E_OK;
	if (fn == HC_CALL)
		e = hc_call(t, r);
	else if (fn == HC_SIGNAL)
		e = hc_signal(t, r);
	else if (fn == HC_YIELD)
		sched_end_slice(sched_of(t->cpu));
	else
		e = E_NOSYS;
	if (t->state == TS_RUNNABLE) /* else the reply or a cancel answers */
		*regs_gpr(r, HC_REG_RESULT) = e;
	kernel_exit();
}

void vcpu_hypercall_reply(struct thread *t, uint64_t label, const uint64_t *mr, unsigned len)
{
	struct arch_regs *r = &t->regs;
	len = MIN(len, HC_MSG_WORDS);
	*regs_gpr(r, HC_REG_RESULT) = E_OK;
	*regs_gpr(r, HC_REG_CAP) = 0;
	*regs_gpr(r, HC_REG_INFO) = msginfo(label, len, 0);
	for (unsigned i = 0; i < len; i++)
		*regs_gpr(r, HC_REG_MR0 + i) = mr[i];
}

void vcpu_exit_reply(struct thread *t, const uint64_t *mr, unsigned len)
{
	struct vcpu *v = t->vcpu;
	if (len && v && arch_vcpu_exit_reply(&v->arch, &t->regs, t->fault_label, t->fault, mr, len))
		v->hw_stale = true;
}
