/* The IPC fast path: call and reply_recv between two threads on one CPU
 * when the partner is already waiting and is the thread the scheduler
 * would pick anyway.  The message moves register to register and the CPU
 * switches straight to the partner: no run-queue operation, no timer
 * change, no scheduling decision.  Anything else takes the general path
 * (ipc/endpoint.c), which gives the same result; the fast path only skips
 * work that would have done nothing.
 *
 * Conditions, all checked before anything changes:
 *   - the message carries no capability (a reply never does);
 *   - the endpoint capability is valid with the right needed, in a CSpace
 *     of one CNode (a deeper one's walk is left to the general path);
 *   - call: a receiver waits on the endpoint; reply_recv: there is a caller
 *     (not a faulting native thread: a guest's exit or hypercall is fine),
 *     no sender waits, no bound notification is pending;
 *   - the partner belongs to this CPU (the current thread does: had
 *     another CPU moved it, that CPU would have kicked this one);
 *   - the partner outranks every ready thread of this CPU (the run
 *     queue's ceiling: the current thread blocks, so its own priority does
 *     not matter), no reschedule is pending, no timeslice timer runs and
 *     the partner has no budget (whose end needs the timer: hyp/budget.c):
 *     so the scheduler would choose the partner and would leave the timer
 *     off.
 *
 * On AArch64 and RISC-V, call, reply_recv, yield, signal, wait and poll
 * run with the big lock shared, not held (hyp/bkl.h), so that threads on
 * different CPUs do not wait for each other: the endpoint's or the
 * notification's own lock covers its queue and word, and everything else
 * they touch belongs to this CPU.  Whatever
 * else they need (FP state, a VMID to allocate, a guest's answer) takes
 * the lock whole first.
 *
 * A guest's exit or hypercall takes the same road (ipc_fastpath_kmsg,
 * ipc_fastpath_hcall; on AArch64 an HVC has a function of its own each
 * way, aarch64_hvc and aarch64_reply_hvc, on riscv64 an SBI call,
 * riscv_guest_ecall and ecall_reply_guest, on x86_64 every exit the
 * kernel composes, x86_exit_fast and sys_reply_guest): the kernel
 * composed the exit's message, a hypercall's is in the guest's
 * registers, and the guest's VCPU is parked as it leaves; the VMM's or
 * server's reply_recv comes back through fastpath_reply_recv, into the
 * guest's registers.
 *
 * The thread that leaves is charged its CPU time and the message it sent
 * (switch_to), as the general path charges them (sched_charge, transfer,
 * ep_reply): the statistics are the same whichever path ran.
 *
 * The bodies are inline in ipc/fastpath.h, so that each port's system-call
 * entry (aarch64_svc, riscv_ecall, x86_syscall) holds them in one function
 * from entry to exit, with signal, yield, wait and poll beside them
 * (fastpath_entry).
 *
 * Cost (AArch64, make bench): a round trip is 300 instructions against
 * 1,471 on the general path (a guest's hypercall to a server and back:
 * 692; a guest's HVC to its VMM and back, arch/aarch64/vcpu.c's own
 * path: 448); sharing the big lock rather than taking it costs 12 of the
 * 300 (hyp/bkl.h: a compare-and-swap, which tests the reasons to decline
 * too, and a byte store a direction).
 * docs/PERF.md has the breakdown of one direction and the floor (about
 * 105 per direction).
 * cairn.fastpath=off (bootargs) turns it off, for the benchmark and the
 * tests of the general path. */
#include "hyp/fp.h"
#include "ipc/fastpath.h"

bool ipc_fastpath_on = true;

void fastpath_reply_guest(struct thread *c, struct thread *t, unsigned cpu)
{
	uint64_t info = arg(t, REG_INFO);
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	c->fault_pending = false;
	if (c->fault_kind == KMSG_VMEXIT)
		vcpu_exit_reply(c, regs_gpr(&t->regs, REG_MR0), len);
	else
		vcpu_hypercall_reply(c, msginfo_label(info), regs_gpr(&t->regs, REG_MR0), len);
	vcpu_enter_parked(c, cpu);
}

/* A guest's exit (t's kernel-composed message, fault_pending) sent as a
 * call through endpoint capability c to a receiver waiting on this CPU:
 * the same conditions as a call, the words from the message.  The guest's
 * VCPU is parked as it leaves. */
struct thread *ipc_fastpath_kmsg(struct thread *t, struct cap *c, unsigned cpu)
{
	struct sched *s = sched_of(cpu);
	if (sched_closed(s) || c->type != OBJ_ENDPOINT || !(c->rights & R_WRITE))
		return NULL;
	struct thread *r = call_partner(s, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	uint64_t *mr = regs_gpr(&r->regs, REG_MR0);
	if (t->fault_len == KMSG_WORDS) { /* an exit's words: pairs, no loop */
		_Static_assert(KMSG_WORDS == 6, "the words copied");
		mr[0] = t->fault[0], mr[1] = t->fault[1], mr[2] = t->fault[2];
		mr[3] = t->fault[3], mr[4] = t->fault[4], mr[5] = t->fault[5];
	} else
		for (unsigned i = 0; i < t->fault_len; i++)
			*regs_gpr(&r->regs, REG_MR0 + i) = t->fault[i];
	link_call(t, r, msginfo(t->fault_label, t->fault_len, 0), c->badge);
	vcpu_leave_for_native(t, cpu);
	switch_to(s, t, r);
	return r;
}

/* A guest's HC_CALL (include/cairn/vcpu.h): a call whose message is in the
 * guest's registers, copied straight into the receiver's. */
struct thread *ipc_fastpath_hcall(struct thread *t, unsigned cpu)
{
	struct sched *s = sched_of(cpu);
	struct arch_regs *g = &t->regs;
	uint64_t info = *regs_gpr(g, HC_REG_INFO);
	struct cap *c;
	if (sched_closed(s) || cspace_lookup_cap(&t->cspace, *regs_gpr(g, HC_REG_CAP), &c) ||
	    c->type != OBJ_ENDPOINT || !(c->rights & R_WRITE) || !hc_info_ok(info))
		return NULL;
	struct thread *r = call_partner(s, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	unsigned len = msginfo_len(info);
	for (unsigned i = 0; i < len; i++)
		*regs_gpr(&r->regs, REG_MR0 + i) = *regs_gpr(g, HC_REG_MR0 + i);
	link_call(t, r, msginfo(msginfo_label(info), len, 0), c->badge);
	t->fault_kind = KMSG_HCALL;
	t->fault_pending = true;
	vcpu_leave_for_native(t, cpu);
	switch_to(s, t, r);
	return r;
}

struct thread *fastpath_general(struct thread *t, struct cpu *c)
{
	kernel_syscall_general(t, c->id);
}

struct thread *fastpath_enter_full(struct thread *next, struct cpu *c)
{
	kernel_enter(next, c->id);
}

struct thread *fastpath_enter_whole(struct thread *next, struct cpu *c)
{
	/* the thread that left may hold this CPU's FP registers: saved
	 * before the lock is free, since another CPU may then free or run it
	 * (fp_switch touches this CPU's registers and the two threads, both
	 * this CPU's while it shares); next is current, and the scheduler
	 * keeps it unless another CPU changed something meanwhile */
	fp_switch(next, c->id);
	bkl_whole(c->sched);
	kernel_exit();
}

struct thread *fastpath_reply_guest_whole(struct thread *t, struct cpu *c)
{
	bkl_whole(c->sched); /* and a look again at what was seen sharing */
	if (sched_closed(c->sched) || !t->caller || !t->caller->fault_pending)
		return fastpath_general(t, c);
	struct thread *next = fastpath_reply_recv(t, c->sched, c->id, true);
	return next ? fastpath_enter_full(next, c) : fastpath_general(t, c);
}
