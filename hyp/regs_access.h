/* Which saved registers carry the system-call ABI, and the accessors generic
 * code uses.  Included by every arch_regs.h after it has defined struct
 * arch_regs with general registers x[], sp and pc.  The roles are the same
 * on every port (docs/ABI.md): x0-x7 message words, x8 number/error, x9
 * capability/badge, x10 info, x11-x13 capabilities to send, x14 receive
 * slot. */
#pragma once
#include <stdint.h>

#define REG_MR0 0
#define REG_NR 8
#define REG_CAP 9
#define REG_INFO 10
#define REG_SENDCAP0 11
#define REG_RECVSLOT 14

static inline uint64_t *regs_gpr(struct arch_regs *r, unsigned n) { return &r->x[n]; }
static inline void arch_regs_set_pc(struct arch_regs *r, uint64_t pc) { r->pc = pc; }
static inline uint64_t arch_regs_pc(const struct arch_regs *r) { return r->pc; }
static inline void arch_regs_set_sp(struct arch_regs *r, uint64_t sp) { r->sp = sp; }
static inline uint64_t arch_regs_sp(const struct arch_regs *r) { return r->sp; }
/* Step back over the system-call instruction, so that the thread makes the
 * same call again when it next runs (its arguments are still in place). */
static inline void arch_regs_restart_syscall(struct arch_regs *r)
{
	r->pc -= SYSCALL_INSN_BYTES;
}
