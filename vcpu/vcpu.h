/* VCPUs: guest state run by a bound thread.
 *
 * A VCPU is paid for from a Memory object like any object.  Binding it to a
 * thread makes that thread run the guest (in its address space, the guest's
 * stage-2 space) instead of native code: the thread is scheduled, migrated,
 * suspended and destroyed like any other, and its exits reach its VMM as
 * messages through its fault endpoint.  The thread holds a reference on the
 * VCPU while bound.
 *
 * State switching (docs/ARCHITECTURE.md, "VCPUs"): saved eagerly when the
 * thread stops being current on a CPU, so a VCPU that is not running always
 * has its state in memory (migration and destruction need nothing from
 * another CPU); restored lazily: a CPU whose registers still hold exactly
 * that state (nothing else was loaded, nothing was written) skips the
 * restore. */
#pragma once
#include <arch_vcpu.h>
#include "cairn/vcpu.h"
#include "hyp/cpu.h"
#include "hyp/ktimer.h"
#include "hyp/thread.h"

#define VIRQ_WORDS (VIRQ_COUNT / 64)

struct vcpu {
	struct obj o;
	struct thread *thread;            /* bound thread (it references us), or NULL */
	uint64_t pending[VIRQ_WORDS];     /* raised, not yet in a list register */
	uint32_t pending_words;           /* bit i: pending[i] is not 0 (a quick no) */
	uint64_t disabled[VIRQ_WORDS];    /* held pending until enabled */
	struct ktimer vtimer;             /* its virtual timer while not loaded */
	int hw_cpu;                       /* CPU whose registers last held its state */
	bool hw_stale;                    /* state in memory written since: restore all */
	struct arch_vcpu arch;
};

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

/* This CPU is about to run t: load its guest state, or the native mode.
 * Inline: between native threads it is two loads and a branch. */
void vcpu_switch_slow(struct thread *t, unsigned cpu);
static inline void vcpu_switch(struct thread *t, unsigned cpu)
{
	if (__builtin_expect(t->vcpu != NULL || cpus[cpu].guest_mode, 0))
		vcpu_switch_slow(t, cpu);
}
/* t stops being current on this CPU (sched_switch_to): save its VCPU. */
void vcpu_leave(struct thread *t, unsigned cpu);
/* Unbind, for a thread being destroyed. */
void vcpu_unbind(struct thread *t);

/* Trap entries from a guest (the arch decodes, these act).  w holds the
 * exit message words (include/cairn/vcpu.h). */
_Noreturn void kernel_vcpu_exit(struct thread *t, enum vmexit_label l, const uint64_t *w);
_Noreturn void kernel_vcpu_wait(struct thread *t, bool wfe);
_Noreturn void kernel_vcpu_hypercall(struct thread *t);
/* The VMM replied to an exit (mr: its message words), or a hypercall's
 * endpoint replied. */
void vcpu_exit_reply(struct thread *t, const uint64_t *mr, unsigned len);
void vcpu_hypercall_reply(struct thread *t, uint64_t label, const uint64_t *mr, unsigned len);
