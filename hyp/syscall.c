/* System-call dispatch and the IPC calls.  Every handler decodes first
 * (capabilities, rights, arguments: any can fail with an error code) and
 * only then acts (which cannot fail), as seL4 splits them. */
#include "hyp/cpu.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"

err_t lookup_cap(struct thread *t, cptr_t cptr, enum obj_type type, unsigned rights,
		 struct cap **out)
{
	struct cap *c;
	err_t e = cspace_lookup_cap(&t->cspace, cptr, &c);
	if (e)
		return e;
	if (type != OBJ_NULL && c->type != type)
		return E_BADTYPE;
	if ((c->rights & rights) != rights)
		return E_RIGHTS;
	*out = c;
	return E_OK;
}

err_t lookup_slot(struct thread *t, cptr_t cnode, uint64_t index, struct cap **out)
{
	struct cap *c;
	err_t e = lookup_cap(t, cnode, OBJ_CNODE, R_WRITE, &c);
	if (e)
		return e;
	struct cnode *cn = (struct cnode *)c->obj;
	if (index == 0 || index >= (1ull << cn->bits))
		return E_RANGE;
	*out = &cnode_slots(cn)[index];
	return E_OK;
}

static err_t endpoint_arg(struct thread *t, unsigned rights, struct cap **c)
{
	return lookup_cap(t, arg(t, REG_CAP), OBJ_ENDPOINT, rights, c);
}

static err_t do_send(struct thread *t, bool block, bool call)
{
	struct cap *c;
	err_t e = endpoint_arg(t, R_WRITE, &c);
	return e ? e : ep_send(t, (struct endpoint *)c->obj, c, block, call);
}

static err_t sys_send(struct thread *t) { return do_send(t, true, false); }
static err_t sys_nb_send(struct thread *t) { return do_send(t, false, false); }
static err_t sys_call(struct thread *t) { return do_send(t, true, true); }

static err_t do_recv(struct thread *t, bool block)
{
	struct cap *c;
	err_t e = endpoint_arg(t, R_READ, &c);
	return e ? e : ep_recv(t, (struct endpoint *)c->obj, block);
}

static err_t sys_recv(struct thread *t) { return do_recv(t, true); }
static err_t sys_nb_recv(struct thread *t) { return do_recv(t, false); }
static err_t sys_reply(struct thread *t) { return ep_reply(t); }

static err_t sys_reply_recv(struct thread *t)
{
	struct cap *c;
	err_t e = endpoint_arg(t, R_READ, &c);
	if (e)
		return e;
	ep_reply(t); /* no caller to answer is not an error here */
	return ep_recv(t, (struct endpoint *)c->obj, true);
}

static err_t sys_signal(struct thread *t)
{
	struct cap *c;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_NOTIFICATION, R_WRITE, &c);
	if (e)
		return e;
	ntfn_signal((struct notification *)c->obj, arg(t, 0) | c->badge);
	return E_OK;
}

static err_t do_wait(struct thread *t, bool block)
{
	struct cap *c;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_NOTIFICATION, R_READ, &c);
	if (e)
		return e;
	ntfn_wait(t, (struct notification *)c->obj, block);
	return E_OK;
}

static err_t sys_wait(struct thread *t) { return do_wait(t, true); }
static err_t sys_poll(struct thread *t) { return do_wait(t, false); }

static err_t sys_yield(struct thread *t)
{
	sched_end_slice(sched_of(t->cpu));
	return E_OK;
}

static const syscall_fn syscalls[SYS_COUNT] = {
	[SYS_SEND] = sys_send,             [SYS_NB_SEND] = sys_nb_send,
	[SYS_CALL] = sys_call,             [SYS_RECV] = sys_recv,
	[SYS_NB_RECV] = sys_nb_recv,       [SYS_REPLY] = sys_reply,
	[SYS_REPLY_RECV] = sys_reply_recv, [SYS_SIGNAL] = sys_signal,
	[SYS_WAIT] = sys_wait,             [SYS_POLL] = sys_poll,
	[SYS_YIELD] = sys_yield,
	[SYS_MEM_RETYPE] = sys_mem_retype, [SYS_MEM_INFO] = sys_mem_info,
	[SYS_CNODE_COPY] = sys_cnode_copy, [SYS_CNODE_MINT] = sys_cnode_mint,
	[SYS_CNODE_MOVE] = sys_cnode_move, [SYS_CNODE_DELETE] = sys_cnode_delete,
	[SYS_CNODE_REVOKE] = sys_cnode_revoke,
	[SYS_CNODE_IDENTIFY] = sys_cnode_identify,
	[SYS_THREAD_CONFIGURE] = sys_thread_configure,
	[SYS_THREAD_WRITE_REGS] = sys_thread_write_regs,
	[SYS_THREAD_READ_REGS] = sys_thread_read_regs,
	[SYS_THREAD_SET_PRIORITY] = sys_thread_set_priority,
	[SYS_THREAD_SET_AFFINITY] = sys_thread_set_affinity,
	[SYS_THREAD_RESUME] = sys_thread_resume,
	[SYS_THREAD_SUSPEND] = sys_thread_suspend,
	[SYS_THREAD_BIND_NOTIFICATION] = sys_thread_bind_notification,
	[SYS_AS_MAP] = sys_as_map,         [SYS_AS_UNMAP] = sys_as_unmap,
	[SYS_AS_PROTECT] = sys_as_protect, [SYS_FRAME_INFO] = sys_frame_info,
	[SYS_AS_BIND_DOORBELL] = sys_as_bind_doorbell,
	[SYS_AS_GUEST_FENCE] = sys_as_guest_fence,
	[SYS_AS_BIND_STATUS] = sys_as_bind_status,
	[SYS_IRQ_GET] = sys_irq_get,
	[SYS_IRQ_SET_NOTIFICATION] = sys_irq_set_notification,
	[SYS_IRQ_ACK] = sys_irq_ack,
	[SYS_IRQ_SET_TIMER] = sys_irq_set_timer,
	[SYS_IRQ_MSI_MESSAGE] = sys_irq_msi_message,
	[SYS_STREAM_GET] = sys_stream_get,
	[SYS_STREAM_BIND] = sys_stream_bind,
	[SYS_STREAM_INFO] = sys_stream_info,
	[SYS_DEBUG_WRITE] = sys_debug_write, [SYS_DEBUG_STATS] = sys_debug_stats,
	[SYS_DEBUG_POWEROFF] = sys_debug_poweroff, [SYS_DEBUG_CHECK] = sys_debug_check,
	[SYS_DEBUG_READ] = sys_debug_read,
	[SYS_VCPU_BIND] = sys_vcpu_bind,   [SYS_VCPU_READ_REG] = sys_vcpu_read_reg,
	[SYS_VCPU_WRITE_REG] = sys_vcpu_write_reg, [SYS_VCPU_INJECT] = sys_vcpu_inject,
	[SYS_VCPU_SET_VIRQ] = sys_vcpu_set_virq,
	[SYS_VCPU_BIND_NOTIFICATION] = sys_vcpu_bind_notification,
	[SYS_THREAD_SET_NAME] = sys_thread_set_name,
	[SYS_STATS_CPU] = sys_stats_cpu,   [SYS_STATS_THREAD] = sys_stats_thread,
	[SYS_THREAD_SET_WEIGHT] = sys_thread_set_weight,
	[SYS_THREAD_SET_BUDGET] = sys_thread_set_budget,
	[SYS_CPU_SET_ONLINE] = sys_cpu_set_online,
};

void syscall_dispatch(struct thread *t)
{
	uint64_t nr = arg(t, REG_NR);
	if (nr >= SYS_COUNT || !syscalls[nr]) {
		t->fault[0] = nr;
		t->fault[1] = arch_regs_pc(&t->regs);
		t->fault[2] = t->fault[3] = 0;
		t->fault_label = FAULT_SYSCALL;
		t->fault_kind = KMSG_FAULT;
		t->fault_len = 4;
		if (!fault_send(t))
			thread_set_error(t, E_NOSYS);
		return;
	}
	err_t e = syscalls[nr](t);
	if (e == E_RESTART) {
		arch_regs_restart_syscall(&t->regs);
		return;
	}
	/* A blocked call's result is written when it wakes; a thread that
	 * suspended itself gets this one when it is resumed. */
	if (t->state == TS_RUNNABLE || t->state == TS_INACTIVE)
		thread_set_error(t, e);
}
