/* VCPUs: the object, binding, virtual interrupts, state switching and the
 * trap entries from guests.  The invocations are in vcpu/sys_vcpu.c, the
 * ISA's registers in arch/<arch>/vcpu.c. */
#include "hyp/arch.h"
#include "hyp/bits.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "mm/memory.h"
#include "vcpu/vcpu.h"

/* The guest's timer came due while its VCPU was not loaded. */
static void vtimer_fire(struct ktimer *k)
{
	struct vcpu *v = (struct vcpu *)((char *)k - __builtin_offsetof(struct vcpu, vtimer));
	arch_vcpu_timer_fired(&v->arch);
	vcpu_raise(v, ARCH_VIRQ_VTIMER);
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
	if (v->hw_cpu >= 0) /* parked: its registers are nobody's now */
		cpus[v->hw_cpu].vcpu_hw = NULL;
	return true;
}

void vcpu_unbind(struct thread *t)
{
	struct vcpu *v = t->vcpu;
	t->vcpu = NULL;
	t->vcpu_bound = false;
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

/* A bit of a word, from the end taken first. */
static inline unsigned bit_end(uint64_t w, bool highest)
{
	return highest ? bit_highest(w) : bit_lowest(w);
}

static inline int take(struct vcpu *v, bool highest)
{
	for (uint32_t ws = v->pending_words; ws; ws &= ~(1u << bit_end(ws, highest))) {
		unsigned i = bit_end(ws, highest);
		uint64_t w = v->pending[i] & ~v->disabled[i];
		if (w) {
			unsigned b = bit_end(w, highest);
			v->pending[i] &= ~(1ull << b);
			if (!v->pending[i])
				v->pending_words &= ~(1u << i);
			return (int)(i * 64 + b);
		}
	}
	return -1;
}

int vcpu_take_deliverable(struct vcpu *v) { return take(v, false); }

/* The highest deliverable one, taken: x86's order, where a vector's
 * number is its priority (the timer's 0xec before a device's 0x2x: taken
 * lowest first, a device raised again at every EOI kept the timer out). */
int vcpu_take_highest(struct vcpu *v) { return take(v, true); }

void vcpu_raise(struct vcpu *v, unsigned virq)
{
	vcpu_set_pending(v, virq);
	struct thread *t = v->thread;
	struct sched *on;
	if (!t || (v->disabled[virq / 64] >> (virq % 64) & 1))
		return;
	if (t->state == TS_BLOCKED_WFI)
		thread_make_runnable(t);
	else if ((on = thread_running(t)) && on->cpu != arch_cpu_id())
		thread_kick(on->cpu); /* its entry loads the list registers */
}

/* The state parked in this CPU's registers into memory; its timer goes
 * on as a kernel timer. */
static void vcpu_unpark(struct vcpu *v, unsigned cpu)
{
	arch_vcpu_save(&v->arch);
	cpus[cpu].vcpu_hw = NULL;
	v->hw_cpu = -1;
	uint64_t due = arch_vcpu_timer_deadline(&v->arch);
	if (due != ~0ull)
		ktimer_arm(&v->vtimer, cpu, due);
}

/* Load v for t here: from this CPU's registers if it is parked here (only
 * what native threads change), else from memory, saving whichever VCPU is
 * parked here first. */
static __attribute__((noinline)) void vcpu_load(struct thread *t, struct vcpu *v, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	/* Parked anywhere else, the thread could not be here (vcpu_fetch). */
	assert(v->hw_cpu < 0 || v->hw_cpu == (int)cpu);
	if (v->hw_cpu == (int)cpu) {
		arch_vcpu_resume(&v->arch);
	} else {
		if (c->vcpu_hw)
			vcpu_unpark(c->vcpu_hw, cpu);
		ktimer_cancel(&v->vtimer);
		arch_vcpu_load(&v->arch);
		c->vcpu_hw = v;
		v->hw_cpu = (int)cpu;
	}
	c->vcpu_in = v;
	if (v->exception) {
		arch_vcpu_take_exception(&v->arch, &t->regs);
		v->exception = false;
	}
}

void vcpu_switch_slow(struct thread *t, unsigned cpu)
{
	struct vcpu *v = t->vcpu;
	if (cpus[cpu].vcpu_in != v)
		vcpu_load(t, v, cpu);
	if (v->pending_words)
		arch_vcpu_flush_virqs(v);
}

void vcpu_leave(struct thread *t, unsigned cpu)
{
	struct vcpu *v = t->vcpu;
	if (cpus[cpu].vcpu_in == v) /* else chosen but never entered */
		vcpu_leave_for_native(t, cpu);
	/* Moving away: its next CPU needs the state, parked here even if it
	 * was chosen again but never entered (moved while this CPU waited in
	 * await_stopping): left parked, its next CPU would load it from
	 * memory while this one still held it (vcpu_load's assertion), and
	 * hotplug_leave's vcpu_fetch would wait. */
	if (t->cpu != cpu && v->hw_cpu == (int)cpu)
		vcpu_unpark(v, cpu);
}

void vcpu_evict(unsigned cpu)
{
	if (cpus[cpu].vcpu_hw)
		vcpu_unpark(cpus[cpu].vcpu_hw, cpu);
}

/* A fetch this CPU was asked for (bkl held). */
void vcpu_serve_fetch(unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	if (c->vcpu_hw && c->vcpu_hw != c->vcpu_in)
		vcpu_unpark(c->vcpu_hw, cpu);
	__atomic_store_n(&c->vcpu_fetch, false, __ATOMIC_RELEASE);
}

void vcpu_serve_fetch_unlocked(unsigned cpu)
{
	if (__atomic_load_n(&cpus[cpu].vcpu_fetch, __ATOMIC_ACQUIRE)) {
		bkl_lock();
		vcpu_serve_fetch(cpu);
		bkl_unlock();
	}
}

/* Another CPU's fetch: ask it, and wait with the lock dropped, serving
 * this CPU's own requests meanwhile (two CPUs may ask each other). */
bool vcpu_fetch(struct vcpu *v)
{
	unsigned cpu = arch_cpu_id();
	int at = v->hw_cpu;
	if (at < 0)
		return true;
	if (at == (int)cpu) {
		assert(cpus[cpu].vcpu_in != v); /* its thread is not the caller */
		vcpu_unpark(v, cpu);
		return true;
	}
	__atomic_store_n(&cpus[at].vcpu_fetch, true, __ATOMIC_RELEASE);
	thread_kick((unsigned)at);
	fp_assert_own(sched_of(cpu)->cur, cpu);
	bkl_unlock();
	/* The kick again each millisecond: the other CPU may sleep with no
	 * timer armed, and one lost wake-up would leave both CPUs waiting for
	 * ever, this one with its interrupts masked (vm-parked-fetch-crossed
	 * hung once in CI, silent, none found in the code since). */
	uint64_t ms = arch_timer_freq() / 1000, again = arch_timer_now() + ms;
	while (__atomic_load_n(&cpus[at].vcpu_fetch, __ATOMIC_ACQUIRE)) {
		vcpu_serve_fetch_unlocked(cpu);
		if (arch_timer_now() >= again) {
			thread_kick((unsigned)at);
			again += ms;
		}
		arch_cpu_relax();
	}
	bkl_lock();
	return false;
}

_Noreturn void kernel_vcpu_exit(struct thread *t, enum vmexit_label l, unsigned cpu)
{
	const uint64_t *w = t->fault; /* decoded there: no copy on the way */
	bkl_lock();
	if (kernel_entry_void(t, cpu))
		kernel_exit(); /* it exits again when it next runs */
	vcpu_count(t->vcpu, vc_label(l));
	uint64_t mr[2];
	if (l == VMEXIT_DATA_ABORT && (w[3] & (VMACC_VALID | VMACC_WRITE)) ==
	    (VMACC_VALID | VMACC_WRITE) && doorbell_ring(t->as, w[0])) {
		arch_vcpu_skip_insn(&t->regs, w);
		kernel_exit();
	}
	if (l == VMEXIT_DATA_ABORT && status_reg_access(t->as, w, mr)) {
		arch_vcpu_exit_reply(&t->vcpu->arch, &t->regs, l, w, mr, 2);
		kernel_exit();
	}
	t->fault_label = l;
	t->fault_kind = KMSG_VMEXIT;
	t->fault_len = VMEXIT_WORDS;
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
_Noreturn void kernel_vcpu_wait(struct thread *t, bool wfe, unsigned cpu)
{
	bkl_lock();
	if (!kernel_entry_void(t, cpu)) {
		struct vcpu *v = t->vcpu;
		vcpu_count(v, VC_WAIT);
		if (wfe)
			sched_end_slice(sched_of(cpu));
		else if (!vcpu_has_deliverable(v) && !arch_vcpu_virq_pending(&v->arch))
			thread_block(t, TS_BLOCKED_WFI, NULL);
	}
	kernel_exit();
}

/* HC_CALL on the general path (ipc_fastpath_hcall declined). */
static err_t hc_call(struct thread *t, struct arch_regs *r)
{
	struct cap *c;
	uint64_t info = *regs_gpr(r, HC_REG_INFO);
	err_t e = lookup_cap(t, *regs_gpr(r, HC_REG_CAP), OBJ_ENDPOINT, R_WRITE, &c);
	if (e)
		return e;
	if (!hc_info_ok(info))
		return E_INVAL;
	t->fault_label = msginfo_label(info);
	t->fault_kind = KMSG_HCALL;
	t->fault_len = (uint8_t)msginfo_len(info);
	for (unsigned i = 0; i < t->fault_len; i++)
		t->fault[i] = *regs_gpr(r, HC_REG_MR0 + i);
	t->fault_pending = true;
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

static __attribute__((noinline, noreturn)) void hypercall_slow(struct thread *t, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t fn = *regs_gpr(r, HC_REG_FN);
	err_t e = E_OK;
	if (fn == HC_CALL)
		e = hc_call(t, r);
	else if (fn == HC_SIGNAL)
		e = hc_signal(t, r);
	else if (fn == HC_YIELD)
		sched_end_slice(sched_of(cpu));
	else
		e = E_NOSYS;
	if (t->state == TS_RUNNABLE) /* else the reply or a cancel answers */
		*regs_gpr(r, HC_REG_RESULT) = e;
	kernel_exit();
}

/* A hypercall in Cairn's range (the arch checked the range and left the pc
 * past the instruction; a void entry steps back, to make it again).  A
 * call to a server waiting on this CPU first, on the fast path. */
_Noreturn void kernel_vcpu_hypercall(struct thread *t, unsigned cpu)
{
	bkl_lock();
	if (kernel_entry_void(t, cpu)) {
		arch_regs_set_pc(&t->regs, arch_regs_pc(&t->regs) - HC_INSN_BYTES);
		kernel_exit();
	}
	vcpu_count(t->vcpu, vc_label(VMEXIT_HVC));
	if (*regs_gpr(&t->regs, HC_REG_FN) == HC_CALL) {
		struct thread *server = ipc_fastpath_hcall(t, cpu);
		if (server)
			kernel_enter(server, cpu);
	}
	hypercall_slow(t, cpu);
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
		v->exception = true;
}
