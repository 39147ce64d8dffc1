/* Thread registers for a port without native threads yet (and for the
 * host unit tests): the generic shape the kernel core needs, 32 general
 * registers, pc and sp.  Its arch_regs.h includes this. */
#pragma once
#include <stdint.h>

struct arch_regs {
	uint64_t r[32];
	uint64_t sp, pc;
};

struct arch_fp {
	uint64_t none;
};

#define REG_MR0 0
#define REG_NR 8
#define REG_CAP 9
#define REG_INFO 10
#define REG_SENDCAP0 11
#define REG_RECVSLOT 14

static inline uint64_t *regs_gpr(struct arch_regs *r, unsigned n) { return &r->r[n]; }
static inline void arch_regs_set_pc(struct arch_regs *r, uint64_t pc) { r->pc = pc; }
static inline uint64_t arch_regs_pc(const struct arch_regs *r) { return r->pc; }
static inline void arch_regs_set_sp(struct arch_regs *r, uint64_t sp) { r->sp = sp; }
static inline uint64_t arch_regs_sp(const struct arch_regs *r) { return r->sp; }
