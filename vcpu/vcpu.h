/* VCPUs: guest state run by a bound thread.
 *
 * A VCPU is paid for from a Memory object like any object.  Binding it to a
 * thread makes that thread run the guest (in its address space, the guest's
 * stage-2 space) instead of native code: the thread is scheduled, migrated,
 * suspended and destroyed like any other, and its exits reach its VMM as
 * messages through its fault endpoint.  The thread holds a reference on the
 * VCPU while bound.
 *
 * State switching (docs/ARCHITECTURE.md, "VCPUs"): when the thread stops
 * being current its state is parked, left in the CPU's registers (native
 * threads do not use the guest's), and it comes back to the same CPU at the
 * cost of what native threads change.  It is saved to memory only when
 * another VCPU is loaded on that CPU, when its thread moves to another CPU,
 * or when an invocation needs it (vcpu_fetch).  Invariant: a parked VCPU's
 * thread belongs to the CPU it is parked on (or it has none), so every CPU
 * that runs a VCPU finds its state in memory or in its own registers. */
#pragma once
#include <arch_vcpu.h>
#include "cairn/vcpu.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/ktimer.h"
#include "hyp/thread.h"

#define VIRQ_WORDS (VIRQ_COUNT / 64)

/* Exits counted for SYS_STATS_THREAD, the ones the kernel handles itself
 * too: by label first (a Cairn hypercall counts as HVC, an ID register
 * read as SYSREG, a rung doorbell as DATA_ABORT), then WFI/WFE and the
 * physical interrupts taken while the guest ran. */
enum vcpu_count {
	VC_WAIT = VMEXIT_OTHER - VMEXIT_DATA_ABORT + 1, VC_IRQ, VC_COUNT
};
static inline enum vcpu_count vc_label(enum vmexit_label l)
{
	return (enum vcpu_count)(l - VMEXIT_DATA_ABORT);
}

struct vcpu {
	struct obj o;
	struct thread *thread;            /* bound thread (it references us), or NULL */
	uint64_t pending[VIRQ_WORDS];     /* raised, not yet in a list register */
	uint32_t pending_words;           /* bit i: pending[i] is not 0 (a quick no) */
	uint64_t disabled[VIRQ_WORDS];    /* held pending until enabled */
	struct ktimer vtimer;             /* its virtual timer while not loaded */
	int hw_cpu;                       /* CPU whose registers hold its state, or -1 */
	bool exception;                   /* a reply's exception, taken when loaded */
	uint64_t counts[VC_COUNT];        /* its exits by kind (vcpu_count) */
	struct arch_vcpu arch;
};

/* The VCPU whose arch part a is (the arch code's way back to it). */
static inline struct vcpu *vcpu_of(const struct arch_vcpu *a)
{
	return (struct vcpu *)((char *)a - __builtin_offsetof(struct vcpu, arch));
}

/* Only the CPU its thread is current on counts (some kinds without the
 * lock), and SYS_STATS_THREAD reads from any CPU: so one plain store of
 * the whole word (volatile, as Linux's WRITE_ONCE), no atomic add. */
static inline void vcpu_count(struct vcpu *v, enum vcpu_count k)
{
	volatile uint64_t *c = &v->counts[k];
	*c += 1;
}

err_t vcpu_create(struct memory *payer, struct vcpu **out);
/* Make `virq` pending (from any CPU): wakes the thread from WFI, or makes
 * its CPU load the interrupt into a list register. */
void vcpu_raise(struct vcpu *v, unsigned virq);
/* Mark virq pending (no wake-up: vcpu_raise does that). */
static inline void vcpu_set_pending(struct vcpu *v, unsigned virq)
{
	v->pending[virq / 64] |= 1ull << (virq % 64);
	v->pending_words |= 1u << (virq / 64);
}
/* Pending and enabled, waiting for a list register. */
bool vcpu_has_deliverable(const struct vcpu *v);
/* Take the lowest deliverable interrupt off the pending set; -1 if none. */
int vcpu_take_deliverable(struct vcpu *v);
/* The highest (x86: a vector's number is its priority). */
int vcpu_take_highest(struct vcpu *v);

/* This CPU is about to run t: load its guest state if it is a guest's.
 * A native thread needs nothing: whenever no VCPU is in (cpu.vcpu_in), the
 * CPU is set up for native threads, since every way a guest's thread
 * leaves a CPU parks its VCPU (vcpu_leave, vcpu_leave_for_native).  So
 * between native threads this is one load and one test. */
void vcpu_switch_slow(struct thread *t, unsigned cpu);
static inline void vcpu_switch(struct thread *t, unsigned cpu)
{
	struct vcpu *v = t->vcpu;
	if (__builtin_expect(v != NULL, 0) && (v != cpus[cpu].vcpu_in || v->pending_words))
		vcpu_switch_slow(t, cpu);
}
/* t stops being current on this CPU (sched_switch_to): park its VCPU, and
 * set the CPU up for native threads. */
void vcpu_leave(struct thread *t, unsigned cpu);
/* The same, straight to a native thread of this CPU (the fast paths). */
static inline void vcpu_leave_for_native(struct thread *t, unsigned cpu)
{
	cpus[cpu].vcpu_in = NULL;
	arch_vcpu_park_native(&t->vcpu->arch);
}
/* A fast path returns to guest thread t from a native thread: resume its
 * VCPU if it is parked here (the common case, inline); vcpu_switch does the
 * rest. */
static inline void vcpu_enter_parked(struct thread *t, unsigned cpu)
{
	struct vcpu *v = t->vcpu;
	if (v->hw_cpu == (int)cpu && !v->exception) {
		arch_vcpu_resume(&v->arch);
		cpus[cpu].vcpu_in = v;
	}
}
/* Bring v's state into memory (bkl held).  Parked on another CPU, that CPU
 * is asked and the lock dropped while it saves: then false, and the caller
 * must look at everything again (an invocation returns E_RESTART). */
bool vcpu_fetch(struct vcpu *v);
/* Save this CPU's parked VCPU if another CPU asked (cpu.vcpu_fetch): with
 * the lock held, and from loops that wait without it. */
void vcpu_serve_fetch(unsigned cpu);
/* This CPU goes off line, running nothing: the VCPU parked here to memory. */
void vcpu_evict(unsigned cpu);
void vcpu_serve_fetch_unlocked(unsigned cpu);
/* Unbind, for a thread being destroyed. */
void vcpu_unbind(struct thread *t);

/* Trap entries from a guest (the arch decodes, these act).  An exit's
 * message words (include/cairn/vcpu.h) are in t->fault: the running thread
 * has no kernel message outstanding, so the arch decodes into them. */
_Noreturn void kernel_vcpu_exit(struct thread *t, enum vmexit_label l, unsigned cpu);
_Static_assert(VMEXIT_WORDS <= KMSG_WORDS, "an exit's words fit a kernel message");
/* Cleared before the decoding fills them: six stores, where a loop was
 * four instructions a word on x86_64's every exit. */
static inline void vmexit_clear(uint64_t *w)
{
	_Static_assert(VMEXIT_WORDS == 6, "the words cleared");
	w[0] = w[1] = w[2] = w[3] = w[4] = w[5] = 0;
}
_Noreturn void kernel_vcpu_wait(struct thread *t, bool wfe, unsigned cpu);
_Noreturn void kernel_vcpu_hypercall(struct thread *t, unsigned cpu);
/* An HC_CALL's message info: at most HC_MSG_WORDS words, no capabilities. */
static inline bool hc_info_ok(uint64_t info)
{
	return msginfo_len(info) <= HC_MSG_WORDS && !msginfo_caps(info) && !(info & MSG_MOVE);
}
/* A guest's write exit at ipa: if a doorbell is bound there, ring it
 * (vcpu/doorbell.c) and say so. */
struct aspace;
bool doorbell_ring(struct aspace *as, uint64_t ipa);
/* The decode AS_BIND_DOORBELL and AS_BIND_STATUS share: x9 an address
 * space (W), x0 an IPA below 2^40 and `align`-aligned. */
err_t guest_reg_decode(struct thread *t, uint64_t align, struct aspace **as, uint64_t *ipa);
/* A guest's access (its exit words w) to a status register of its space
 * (vcpu/status_reg.c): done, and mr[0..1] is the reply that completes it
 * (VMREPLY_*, as its VMM would give); false if it is not one. */
bool status_reg_access(struct aspace *as, const uint64_t *w, uint64_t *mr);
/* The VMM replied to an exit (mr: its message words), or a hypercall's
 * endpoint replied. */
void vcpu_exit_reply(struct thread *t, const uint64_t *mr, unsigned len);
void vcpu_hypercall_reply(struct thread *t, uint64_t label, const uint64_t *mr, unsigned len);
