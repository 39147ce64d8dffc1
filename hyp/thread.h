/* Threads: the unit of execution and of scheduling.
 *
 * A thread's capabilities to its CSpace root, address space and fault
 * endpoint are real slots in the derivation tree (as seL4's TCB slots are),
 * so revoking any of them takes it from the thread too. */
#pragma once
#include "hyp/budget.h"
#include <arch_regs.h>
#include "cap/cap.h"

struct notification;
struct sched;
struct vcpu;

/* What a thread with fault_pending is sending: a message the kernel composed
 * for it (label fault_label, words fault[0..fault_len)). */
enum kmsg_kind {
	KMSG_FAULT,   /* its own fault: the reply may move its pc */
	KMSG_VMEXIT,  /* its guest exited: the reply resumes it (vcpu/) */
	KMSG_HCALL,   /* its guest's hypercall: the reply goes into guest registers */
};
#define KMSG_WORDS 6

struct thread {
	struct obj o;
	struct arch_regs regs;     /* first after the header: entry code's target */
	uint8_t state;             /* enum thread_state */
	uint8_t prio;
	/* Two bytes the IPC fast path tests as one: a partner on this CPU
	 * with no budget (whose end would need the timer). */
	union {
		struct {
			uint8_t cpu;       /* affinity: the CPU whose queue it is on */
			bool budgeted;     /* bud.period != 0 or passive (hyp/budget.c) */
		};
		uint16_t cpu_budgeted;
	};
	uint8_t mcp;
	bool queued;               /* on a run queue */
	bool fault_pending;        /* blocked sending a kernel-composed message */
	struct thread *next, *prev; /* run queue or IPC wait queue, circular */
	void *blocked_on;          /* endpoint or notification it waits on */
	struct thread *caller;     /* one-shot reply right: whom to answer */
	struct thread *callee;     /* while blocked on reply: who holds the right */
	/* Where the fast path writes anyway, adjacent and near the start (an
	 * AArch64 load or store pair reaches 504 bytes): one pair each way. */
	uint64_t ticks;            /* timer ticks it was current, to its last switch */
	uint64_t ipc_sent;         /* messages delivered from it and replies (docs/ABI.md) */
	struct notification *bound;
	bool ipc_call, ipc_grant;  /* blocked sender: is a call, may grant */
	uint64_t ipc_badge;        /* blocked sender: badge of its capability */
	uint64_t fault[KMSG_WORDS]; /* that message (fault_pending) */
	uint64_t fault_label;
	uint8_t fault_len, fault_kind;
	struct aspace *as;         /* referenced: lives while the thread uses it */
	struct cap cspace, fault_ep;
	uint16_t stop_waiters;     /* made inactive while current on another CPU, until
				    * that CPU has left it: the CPUs that wait (a bit each) */
	bool dead;                 /* destroyed while current on another CPU */
	bool floating;             /* no fixed CPU: load balancing moves it (hyp/balance.c) */
	bool passive;              /* serving a call, it runs on its caller's time (hyp/budget.c) */
	/* Two bytes a fast path tests as one: entering the thread may be more
	 * than loading its registers and space. */
	union {
		struct {
			bool fp_used;      /* has FP state (hyp/fp.c) */
			bool vcpu_bound;   /* vcpu != NULL */
		};
		uint16_t enter_more;
	};
	struct arch_fp fp;         /* saved whenever it is not running */
	struct vcpu *vcpu;         /* bound VCPU (referenced): runs a guest */
	uint64_t id;               /* SYS_STATS_THREAD's: from 1, never reused in a boot */
	char name[16];             /* SYS_THREAD_SET_NAME's bytes */
	uint32_t weight;           /* the fair class's (hyp/fair.c); 0: round robin */
	uint64_t voff;             /* added to its virtual runtime: a sleeper's catch-up cut */
	struct budget bud;         /* hyp/budget.c: its CPU time per period, capped */
	struct thread *live_next, *live_prev; /* threads_live: oldest first, circular */
};

/* Every thread from creation to its memory's release, so that enumerating
 * it (SYS_STATS_THREAD, under the big lock) never touches freed memory. */
extern struct thread *threads_live;


struct memory;
/* A new thread paid by m, inactive, with affinity `cpu`, an id, listed. */
err_t thread_create(struct memory *m, unsigned cpu, struct thread **out);
/* The i-th live thread (0: the oldest), or NULL.  O(i). */
struct thread *thread_nth(uint64_t i);
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
/* Tell a CPU to choose again: at once if it is this one, else by IPI. */
void thread_kick(unsigned cpu);
/* The thread whose saved registers r are (entry code's target). */
static inline struct thread *thread_of(struct arch_regs *r)
{
	return (struct thread *)((char *)r - __builtin_offsetof(struct thread, regs));
}
/* t->cspace was installed: its fast-path form (cap.cs_lim1). */
static inline void thread_cspace_set(struct thread *t)
{
	struct cap *r = &t->cspace;
	unsigned bits = r->type == OBJ_CNODE ? ((struct cnode *)r->obj)->bits : 0;
	r->cs_lim1 = bits && bits < 64 && r->guard_bits + bits == 64 && !r->guard ?
			     (1ull << bits) - 1 : 0;
}
/* Set the value the thread's current system call returns. */
void thread_set_error(struct thread *t, err_t e);
