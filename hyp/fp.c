/* FP/SIMD state of native threads.
 *
 * A thread has no FP state until it first touches an FP register: until
 * then the access traps (AArch64: CPTR_EL2.TFP) and switching to it costs
 * nothing.  On that first trap it gets a zeroed register file.  From then
 * on its state is switched eagerly: saved when its CPU leaves it, loaded
 * when a CPU enters it.  So a thread that is not running always has its FP
 * state in memory, which is what lets it migrate, be destroyed or be read
 * from any CPU without asking the CPU it last ran on.
 *
 * Invariant, per CPU: fp_live is the thread whose state is in the
 * registers, and FP access traps exactly when fp_live is NULL. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"

void fp_change(struct thread *next, struct cpu *c)
{
	if (c->fp_live) {
		arch_fp_save(&c->fp_live->fp);
		c->fp_live = NULL;
		arch_fp_trap(true);
	}
	if (next && next->fp_used) {
		arch_fp_trap(false);
		arch_fp_load(&next->fp);
		c->fp_live = next;
	}
}

void fp_first_use(struct thread *t) { t->fp_used = true; }

/* Outside the big kernel lock a CPU's fp_live is its current thread or
 * NULL, and a thread being destroyed is current nowhere else (or it is
 * marked dead and that CPU calls this once it has switched away), so
 * only this CPU can hold t's registers. */
void fp_forget(struct thread *t)
{
	struct cpu *c = this_cpu();
	if (c->fp_live == t) {
		c->fp_live = NULL;
		arch_fp_trap(true);
	}
}
