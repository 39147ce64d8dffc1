/* Threads: the unit of execution and of scheduling.
 *
 * A thread's capabilities to its CSpace root, address space and fault
 * endpoint are real slots in the derivation tree (as seL4's TCB slots are),
 * so revoking any of them takes it from the thread too. */
#pragma once
#include <arch_regs.h>
#include "cap/cap.h"

struct notification;
struct sched;

struct thread {
	struct obj o;
	struct arch_regs regs;     /* first after the header: entry code's target */
	uint8_t state;             /* enum thread_state */
	uint8_t prio, mcp;
	uint8_t cpu;               /* affinity: the CPU whose queue it is on */
	bool queued;               /* on a run queue */
	bool fault_pending;        /* blocked sending a fault message */
	struct thread *next, *prev; /* run queue or IPC wait queue, circular */
	void *blocked_on;          /* endpoint or notification it waits on */
	struct thread *caller;     /* one-shot reply right: whom to answer */
	struct thread *callee;     /* while blocked on reply: who holds the right */
	struct notification *bound;
	bool ipc_call, ipc_grant;  /* blocked sender: is a call, may grant */
	uint64_t ipc_badge;        /* blocked sender: badge of its capability */
	uint64_t fault[4];         /* fault message (fault_pending) */
	uint8_t fault_label;
	struct aspace *as;         /* referenced: lives while the thread uses it */
	struct cap cspace, fault_ep;
	struct sched *running;     /* the CPU it is current on (sched.cur), or NULL */
	bool stopping;             /* made inactive while current on another CPU,
				    * until that CPU has left it */
	bool dead;                 /* destroyed while current on another CPU */
	bool fp_used;              /* has FP state (hyp/fp.c) */
	struct arch_fp fp;         /* saved whenever it is not running */
};

/* Threads `stopping`: a CPU that stopped one waits for it (kernel_exit). */
extern unsigned threads_stopping;

/* Make t runnable on its CPU, or take it off its queue.  Both O(1). */
void thread_make_runnable(struct thread *t);
void thread_block(struct thread *t, enum thread_state s, void *on);
/* Cancel whatever t is blocked in: it returns `why` from its system call. */
void thread_cancel_ipc(struct thread *t, err_t why);
void thread_suspend(struct thread *t);
void thread_set_prio(struct thread *t, unsigned prio);
void thread_set_cpu(struct thread *t, unsigned cpu);
/* Give back a destroyed thread once no CPU runs it (its space last). */
void thread_free_dead(struct thread *t);
/* Set the value the thread's current system call returns. */
void thread_set_error(struct thread *t, err_t e);
