/* Shared by the system-call files: argument access and the decode helpers
 * that check a capability address, its object type and its rights. */
#pragma once
#include "hyp/thread.h"

static inline uint64_t arg(struct thread *t, unsigned i) { return *regs_gpr(&t->regs, i); }
static inline void set_ret(struct thread *t, unsigned i, uint64_t v) { *regs_gpr(&t->regs, i) = v; }

/* The capability at cptr in t's CSpace, of `type` (OBJ_NULL: any), with
 * at least `rights`. */
err_t lookup_cap(struct thread *t, cptr_t cptr, enum obj_type type, unsigned rights,
		 struct cap **out);
/* Slot `index` of the CNode named by cptr (which needs the write right). */
err_t lookup_slot(struct thread *t, cptr_t cnode, uint64_t index, struct cap **out);

typedef err_t (*syscall_fn)(struct thread *t);
/* Not an error a thread sees: the invocation dropped the lock to wait
 * (vcpu_fetch) and is made again from the start. */
#define E_RESTART E_COUNT
/* Handlers, one file per object (docs/ABI.md lists them). */
err_t sys_mem_retype(struct thread *t);
err_t sys_mem_info(struct thread *t);
err_t sys_cnode_copy(struct thread *t);
err_t sys_cnode_mint(struct thread *t);
err_t sys_cnode_move(struct thread *t);
err_t sys_cnode_delete(struct thread *t);
err_t sys_cnode_revoke(struct thread *t);
err_t sys_cnode_identify(struct thread *t);
err_t sys_thread_configure(struct thread *t);
err_t sys_thread_write_regs(struct thread *t);
err_t sys_thread_read_regs(struct thread *t);
err_t sys_thread_set_priority(struct thread *t);
err_t sys_thread_set_affinity(struct thread *t);
err_t sys_thread_resume(struct thread *t);
err_t sys_thread_suspend(struct thread *t);
err_t sys_thread_bind_notification(struct thread *t);
err_t sys_as_map(struct thread *t);
err_t sys_as_unmap(struct thread *t);
err_t sys_as_protect(struct thread *t);
err_t sys_as_bind_doorbell(struct thread *t);
err_t sys_as_guest_fence(struct thread *t);
err_t sys_as_bind_status(struct thread *t);
err_t sys_frame_info(struct thread *t);
err_t sys_irq_get(struct thread *t);
err_t sys_irq_set_notification(struct thread *t);
err_t sys_irq_ack(struct thread *t);
err_t sys_irq_msi_message(struct thread *t);
err_t sys_irq_set_timer(struct thread *t);
err_t sys_stream_get(struct thread *t);
err_t sys_stream_bind(struct thread *t);
err_t sys_stream_info(struct thread *t);
err_t sys_debug_write(struct thread *t);
err_t sys_debug_stats(struct thread *t);
err_t sys_debug_poweroff(struct thread *t);
err_t sys_debug_check(struct thread *t);
err_t sys_debug_read(struct thread *t);
err_t sys_vcpu_bind(struct thread *t);
err_t sys_vcpu_read_reg(struct thread *t);
err_t sys_vcpu_write_reg(struct thread *t);
err_t sys_vcpu_inject(struct thread *t);
err_t sys_vcpu_set_virq(struct thread *t);
err_t sys_vcpu_bind_notification(struct thread *t);
err_t sys_thread_set_name(struct thread *t);
err_t sys_stats_cpu(struct thread *t);
err_t sys_thread_set_weight(struct thread *t);
err_t sys_thread_set_budget(struct thread *t);
err_t sys_cpu_set_online(struct thread *t);
err_t sys_stats_thread(struct thread *t);

/* Run t's system call (its registers hold it).  t may block. */
void syscall_dispatch(struct thread *t);
