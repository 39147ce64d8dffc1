/* The scheduler: per-CPU run queues of 256 priority levels with a two-level
 * bitmap and the highest level kept, so picking the highest ready thread
 * is a load (emptying the top level finds the next with two
 * count-leading-zeros).
 * Round robin within a level by timeslice; tickless: the timer is armed only
 * when the running thread shares its level with another ready thread. */
#pragma once
#include "hyp/thread.h"

struct runq {
	/* 1 + the highest non-empty level, 0 if none: a thread of priority
	 * p would be chosen over every ready one iff p >= ceiling (one
	 * comparison for the IPC fast paths, ipc/fastpath.h) */
	unsigned ceiling;
	uint64_t top;               /* bit i: words[i] non-zero */
	uint64_t words[PRIO_LEVELS / 64];
	struct thread *head[PRIO_LEVELS];
};

void runq_add(struct runq *q, struct thread *t, bool front);
void runq_remove(struct runq *q, struct thread *t);
struct thread *runq_highest(const struct runq *q); /* NULL if empty */
static inline bool runq_level_busy(const struct runq *q, unsigned prio)
{
	return q->head[prio] != NULL;
}

#define TIMESLICE_US 5000

struct sched {
	/* A cache line each (no CPU's switch writes another's), the fast
	 * paths' fields first, where a load or store pair can reach them.
	 * First, at offset 0 where an exclusive load reaches it with no
	 * address arithmetic: the big lock's word for this CPU (hyp/bkl.h)
	 * and what makes the IPC fast paths decline (ipc/fastpath.c), so
	 * that the compare-and-swap from 0 that shares the lock tests them
	 * all. */
	_Alignas(64) union {
		struct {
			uint8_t sharing;     /* this CPU shares the lock */
			uint8_t gated;       /* a whole holder holds it: no sharing */
			bool resched;        /* choose again before returning to user */
			bool fastpath_off;   /* cairn.fastpath=off */
			bool cur_passive;    /* cur is passive: its time is another's (the
					      * fast paths charge cur; sched_program_timer) */
			uint8_t spare[2];    /* always 0 */
			bool timer_armed;    /* the one-shot timer is set (slice or kernel
					      * timer); last: a yield shares with it set */
		};
		uint64_t share;
	};
	struct thread *cur;          /* NULL: idle */
	uint64_t slice_start;        /* timer reading when cur got the CPU (below; beside
				      * cur: a fast switch stores both with one pair) */
	bool slice_armed;            /* ...for cur's timeslice: it has a peer at its level */
	unsigned cpu;                /* whose scheduler this is */
	/* CPU time: every interval between two switches (slice_start) is
	 * charged to the thread current in it (thread.ticks) or to `idle`, so
	 * that idle plus the threads' charges is the time since `start`
	 * (SYS_STATS_CPU). */
	uint64_t start, idle;        /* when it started scheduling; ticks idle since */
	/* threads this CPU stopped while they were current on another CPU,
	 * not left yet: it waits for them before returning to user mode
	 * (kernel_exit; each thread's stop_waiters) */
	unsigned stops;
	struct runq q;
};

/* Bits of sched.share (every port is little-endian: byte n is bits 8n-8n+7). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
		       __builtin_offsetof(struct sched, share) == 0 &&
		       __builtin_offsetof(struct sched, gated) == 1 &&
		       __builtin_offsetof(struct sched, timer_armed) == 7,
	       "sched.share's bytes, as the masks below take them");
enum { SHARE_SHARING = 1, SHARE_GATED = 1 << 8 };
#define SHARE_CLOSED (~0xffffull)                /* resched..timer_armed: no fast path */
#define SHARE_YIELD_CLOSED 0x00ffffffffffff00ull /* what stops a yield sharing: all but
						  * `sharing` and timer_armed */

/* Whether the fast paths decline on this CPU (the lock held whole). */
static inline bool sched_closed(const struct sched *s) { return s->share & SHARE_CLOSED; }

extern struct sched scheds[];
static inline struct sched *sched_of(unsigned cpu) { return &scheds[cpu]; }
/* The scheduler t is current on (whose cur it is), or NULL.  No link in
 * the thread says so: a switch (the fast paths' too) stores cur alone.
 * Its own CPU's first, where it runs unless moved since. */
struct sched *thread_running(const struct thread *t);
/* The thread to run next on this CPU (cur if it is still best). */
void sched_choose(struct sched *s);
/* This CPU starts scheduling: its clock for SYS_STATS_CPU starts now. */
void sched_start(struct sched *s, unsigned cpu, uint64_t now);
/* Whose time t runs on: t's own, or while a passive t serves a call its
 * caller's (the first that is not passive, up the chain of calls: a
 * caller is blocked on its callee, so the chain has no loop). */
static inline struct thread *sched_payer(struct thread *t)
{
	while (t->passive && t->caller)
		t = t->caller;
	return t;
}
/* Charge the time since the last switch to the current thread's payer (or
 * idle). */
static inline void sched_charge(struct sched *s, uint64_t now)
{
	uint64_t d = now - s->slice_start;
	if (s->cur)
		sched_payer(s->cur)->ticks += d;
	else
		s->idle += d;
	s->slice_start = now;
}
/* A passive t's call ends (answered, or its caller gone): what t ran of
 * it so far, if t is current, is charged to the caller now, while the
 * link that says whose time it is holds. */
void sched_charge_passive(struct thread *t);
/* t has left the CPU it was stopped on, or runs on there after all: the
 * CPUs that stopped it (its stop_waiters) wait for it no more. */
void sched_stop_done(struct thread *t);
/* Switch the current thread to t (NULL: idle) without queueing decisions. */
void sched_switch_to(struct sched *s, struct thread *t);
void sched_end_slice(struct sched *s);
/* Load balancing (balance.c), for floating threads: the CPU a thread
 * woken now should go to; a CPU about to idle takes one from another
 * (true if it did); a CPU whose timeslice ended gives one to an idle CPU. */
unsigned balance_place(const struct thread *t);
bool balance_pull(unsigned cpu);
void balance_push(unsigned cpu);
/* The fair class (fair.c): the thread to run next at level prio once
 * `ending` (queued there again) has had its timeslice of `slice` ticks. */
#define FAIR_UNIT 1024 /* the weight of a thread without one */
extern unsigned fair_threads; /* threads with a weight: none, no fair_pick */
struct thread *fair_pick(const struct runq *q, unsigned prio, const struct thread *ending,
			 uint64_t slice, uint64_t stint);
void sched_timer_tick(struct sched *s, uint64_t now);
/* Arm or stop the timer for the timeslice of s->cur. */
void sched_program_timer(struct sched *s, uint64_t now, uint64_t slice_ticks);
