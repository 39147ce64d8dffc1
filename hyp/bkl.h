/* The big kernel lock, held whole or shared.
 *
 * Held whole (bkl_lock), it covers all kernel state: every entry from
 * user mode but the IPC fast paths takes it, and the exit drops it.
 *
 * Shared (bkl_share), it lets the fast paths of call, reply_recv, yield,
 * signal, wait and poll (ipc/fastpath.h) run on several CPUs at once.  A
 * sharing CPU touches only what is its own while it shares: its
 * scheduler, its current thread, the partner it switches to (which
 * belongs to this CPU and waits for it alone), and the endpoint or
 * notification between them, under that object's lock (the only other
 * state two sharing CPUs can both reach).  Anything else makes
 * the fast path decline: it stops sharing and takes the lock whole.
 *
 * So a whole holder must know that no CPU shares.  bkl_lock takes the
 * lock, then waits until no CPU's `sharing` flag is set; bkl_share sets
 * this CPU's flag, then backs off if the lock is held.  Both sides store,
 * then load the other's word with a full barrier between (AArch64: DMB ISH
 * after the STLR; RISC-V and x86: fences), so at least one of two CPUs
 * that race sees the other (Dekker).  A whole holder never
 * waits for a sharing CPU that waits for it: a sharing CPU waits only for
 * an endpoint's or notification's lock, held only by another sharing CPU.
 * This is the per-CPU reader lock of Linux's old brlock, with readers that
 * give way.
 *
 * Sharing costs a fast path one store and one load more than the lock did
 * (plus the endpoint's lock and unlock); taking the lock whole costs a
 * load per CPU started at boot. */
#pragma once
#include "hyp/cpu.h"
#include "hyp/spinlock.h"

extern spinlock_t bkl;

static inline __attribute__((always_inline)) void bkl_lock(void)
{
	while (__atomic_exchange_n(&bkl.held, 1, __ATOMIC_SEQ_CST))
		while (__atomic_load_n(&bkl.held, __ATOMIC_RELAXED))
			;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the other half of bkl_share's */
	for (unsigned i = 0; i < ncpus_online; i++)
		while (__atomic_load_n(&cpus[i].sharing, __ATOMIC_SEQ_CST))
			;
}

static inline __attribute__((always_inline)) void bkl_unlock(void)
{
	spin_unlock(&bkl);
}

/* Share the lock, or (false) leave it to its holder: take it whole. */
static inline __attribute__((always_inline)) bool bkl_share(struct cpu *c)
{
	__atomic_store_n(&c->sharing, 1, __ATOMIC_SEQ_CST);
	/* A full barrier between the store and the load.  STLR then LDAR
	 * is ordered on AArch64 hardware, but QEMU's TCG (MTTCG, x86 host)
	 * gives STLR its barrier before the store and LDAR its barrier after
	 * the load, none between, so the host's store buffer could let this
	 * CPU share beside a whole holder: both then changed one endpoint's
	 * queue (root-tests-smp4, ipc-smp-race, about 1 boot in 10:
	 * assert(!r->caller) in after_send, or a hang).  One DMB ISH: 1
	 * instruction a direction (docs/PERF.md). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(!__atomic_load_n(&bkl.held, __ATOMIC_SEQ_CST), 1))
		return true;
	__atomic_store_n(&c->sharing, 0, __ATOMIC_RELEASE);
	return false;
}

static inline __attribute__((always_inline)) void bkl_unshare(struct cpu *c)
{
	__atomic_store_n(&c->sharing, 0, __ATOMIC_RELEASE);
}

/* Take the lock whole, from sharing it (or from a failed bkl_share). */
static inline __attribute__((always_inline)) void bkl_whole(struct cpu *c)
{
	bkl_unshare(c);
	bkl_lock();
}
