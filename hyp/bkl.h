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
 * So a whole holder must know that no CPU shares.  Each CPU's scheduler
 * starts with one word, `share` (hyp/sched.h): its byte `sharing` set
 * while the CPU shares, its byte `gated` while a whole holder holds the
 * lock, and the flags that make the fast paths decline (resched,
 * fastpath_off, timer_armed).  bkl_share sets `sharing` by one
 * compare-and-swap of the word from 0, so it fails if the CPU is gated or
 * its fast paths are closed (or, rarely, if another write raced it: the
 * fast path declines); bkl_lock, once it has the lock, gates every CPU
 * with an atomic OR on the same word and waits for any that was sharing
 * to stop.  Two read-modify-writes of one word are ordered one before the
 * other, so either the holder sees the CPU sharing or the CPU sees the
 * gate: no barrier between a store and a load is needed (the Dekker
 * protocol this replaces needed a DMB for QEMU's TCG, which gives a
 * store-release and a load-acquire no order between them).  A plain
 * store to one of the flags (a byte of the word) makes a racing
 * read-modify-write of the word start again.  A whole holder never waits
 * for a sharing CPU that waits for it: a sharing CPU waits only for an
 * endpoint's or notification's lock, held only by another sharing CPU.
 * This is the per-CPU reader lock of Linux's old brlock, with readers that
 * give way.
 *
 * Sharing costs a fast path 6 instructions (a compare-and-swap loop and a
 * byte store; plus the endpoint's lock and unlock), and the test of the
 * flags is in it; taking the lock whole costs an atomic OR and a byte
 * store per CPU started at boot. */
#pragma once
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/sched.h"
#include "hyp/spinlock.h"

extern spinlock_t bkl;

static inline __attribute__((always_inline)) void bkl_lock(void)
{
	while (__atomic_exchange_n(&bkl.held, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&bkl.held, __ATOMIC_RELAXED))
			;
	for (unsigned i = 0; i < ncpus_online; i++)
		if (__atomic_fetch_or(&scheds[i].share, SHARE_GATED, __ATOMIC_ACQ_REL) & SHARE_SHARING)
			while (__atomic_load_n(&scheds[i].sharing, __ATOMIC_ACQUIRE))
				;
}

static inline __attribute__((always_inline)) void bkl_unlock(void)
{
	for (unsigned i = 0; i < ncpus_online; i++)
		__atomic_store_n(&scheds[i].gated, 0, __ATOMIC_RELEASE);
	spin_unlock(&bkl);
}

/* Share the lock, or (false) leave it to its holder, or find this CPU's
 * fast paths closed: take it whole. */
static inline __attribute__((always_inline)) bool bkl_share(struct sched *s)
{
	return __builtin_expect(arch_cas0_acquire(&s->share, SHARE_SHARING), 1);
}

/* The same for a yield, which goes on with the timer armed (fastpath_yield
 * sets it again); the flags but timer_armed must be clear. */
static inline __attribute__((always_inline)) bool bkl_share_yield(struct sched *s)
{
	uint64_t w = __atomic_load_n(&s->share, __ATOMIC_RELAXED);
	return !(w & (SHARE_YIELD_CLOSED | SHARE_SHARING)) &&
	       __atomic_compare_exchange_n(&s->share, &w, w | SHARE_SHARING, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void bkl_unshare(struct sched *s)
{
	__atomic_store_n(&s->sharing, 0, __ATOMIC_RELEASE);
}

/* Whether this CPU shares the lock. */
static inline bool bkl_sharing(const struct sched *s) { return s->sharing; }

/* Take the lock whole, from sharing it (or from a failed bkl_share). */
static inline __attribute__((always_inline)) void bkl_whole(struct sched *s)
{
	bkl_unshare(s);
	bkl_lock();
}
