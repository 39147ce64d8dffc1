/* The VCPU hooks of a port that has none yet (it lists this file in
 * ARCH_SRCS, beside hyp/iommu_none.c): arch_vcpu_supported() false keeps
 * generic code from calling the rest, and the root task's tests that need
 * them are skipped (BOOT_HAS_VCPU). */
#include "hyp/arch.h"

bool arch_vcpu_supported(void) { return false; }
void arch_vcpu_reset(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_regs_reset(struct arch_regs *r) { (void)r; }
void arch_vcpu_load(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_park_native(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_resume(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_skip_insn(struct arch_regs *r, const uint64_t *exit) { (void)r, (void)exit; }
void arch_vcpu_save(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_take_exception(struct arch_vcpu *a, struct arch_regs *r) { (void)a, (void)r; }
void arch_vcpu_flush_virqs(struct vcpu *v) { (void)v; }
bool arch_vcpu_virq_pending(const struct arch_vcpu *a) { (void)a; return false; }
uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a) { (void)a; return ~0ull; }
void arch_vcpu_timer_fired(struct arch_vcpu *a) { (void)a; }
err_t arch_vcpu_reg_read(struct vcpu *v, uint64_t id, uint64_t *val)
{
	(void)v, (void)id, (void)val;
	return E_INVAL;
}
err_t arch_vcpu_reg_write(struct vcpu *v, uint64_t id, uint64_t val)
{
	(void)v, (void)id, (void)val;
	return E_INVAL;
}
bool arch_vcpu_exit_reply(struct arch_vcpu *a, struct arch_regs *r, uint64_t label,
			  const uint64_t *exit, const uint64_t *mr, unsigned len)
{
	(void)a, (void)r, (void)label, (void)exit, (void)mr, (void)len;
	return false;
}
