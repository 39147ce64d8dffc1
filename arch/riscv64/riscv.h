/* RISC-V HS-mode: CSRs, SBI calls, and the arch-private interface between
 * the files of this port. */
#pragma once
#include "hyp/types.h"

#define csr_read(csr) ({ uint64_t v_; \
	__asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(v)) : "memory")

#define SSTATUS_SIE (1ull << 1)
#define SSTATUS_SPP (1ull << 8)
#define SIE_SEIE (1ull << 9)
#define SCAUSE_IRQ (1ull << 63)
#define SSTATUS_FS (3ull << 13)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9
#define EXC_ILLEGAL_INSN 2

#define SATP_MODE_SV39 8ull
#define SATP_MODE_SV48 9ull
#define SATP_MODE_SHIFT 60
#define HGATP_VMID_SHIFT 44
#define HGATP_VMID_MASK 0x3fffull

/* hgatp for a space: Sv39x4 (uspace.c), its VMID, its root table. */
static inline uint64_t riscv_hgatp(unsigned vmid, paddr_t root)
{
	return SATP_MODE_SV39 << SATP_MODE_SHIFT | (uint64_t)vmid << HGATP_VMID_SHIFT |
	       pa_addr(root) >> PAGE_SHIFT;
}
/* HFENCE.VVMA x0, x0: this hart's guest-virtual (VS-stage) translations of
 * the VMID in hgatp, every address and ASID. */
static inline void riscv_hfence_vvma_all(void) { __asm__ volatile(".word 0x22000073" ::: "memory"); }
static inline void riscv_fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

/* Local (per-hart) interrupts are numbered after the PLIC's sources. */
#define RISCV_IRQ_LOCAL 1024
#define RISCV_IRQ_TIMER (RISCV_IRQ_LOCAL + IRQ_S_TIMER)

/* sbi.c: the SBI calls Cairn uses (SBI 0.2+ extensions plus legacy putchar). */
struct sbiret { long error, value; };
#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494d45
#define SBI_EXT_HSM 0x48534d
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_RFENCE 0x52464e43
struct sbiret sbi_call(long ext, long fid, uint64_t a0, uint64_t a1, uint64_t a2);
void sbi_console_putchar(char c);
bool sbi_has(long ext);
_Noreturn void sbi_shutdown(void);
extern bool riscv_start_at_image;
long sbi_hart_start(uint64_t hartid, uint64_t start_pa, uint64_t opaque);
void sbi_hart_stop(void);
bool sbi_can_stop_harts(void);
void sbi_set_timer(uint64_t deadline);
void sbi_describe(char *buf, size_t len);
void sbi_send_ipi(uint64_t hartid);
void sbi_hfence_gvma(bool all, unsigned vmid);
void sbi_hfence_gvma_harts(uint64_t mask, unsigned vmid);
long sbi_hfence_vvma_harts(uint64_t mask);
extern uint64_t riscv_hart_spared[]; /* uspace.c */
long sbi_fence_i_harts(uint64_t mask);

/* trap.c: a local interrupt (scause's number), acknowledged and dispatched. */
void riscv_local_irq(unsigned cause);
/* trap.c: a CSR access that may not exist.  Runs `fn`; returns false if it
 * raised an illegal-instruction exception (which is then skipped). */
bool riscv_probe(void (*fn)(void));
void riscv_trap_init(void);

/* trap.c: a halfword of guest memory as the guest would fetch it (hlvx.hu,
 * with the trap's hstatus.SPVP), or -1 if that faults. */
int64_t riscv_guest_fetch16(uint64_t va);
/* uspace.c: an illegal instruction (its bits) is a first FP use. */
bool riscv_fp_first_use(uint64_t insn);
/* vcpu.c */
void riscv_vcpu_init_cpu(void);
struct thread;
struct arch_regs;
_Noreturn void riscv_guest_trap(struct thread *t, struct arch_regs *r, uint64_t cause,
				unsigned cpu);
#define SBI_TIME 0x54494d45ull /* "TIME": set_timer is its FID 0, or legacy EID 0 */
/* entry.S: back to a thread's registers, its space loaded */
_Noreturn void riscv_user_restore(struct arch_regs *r);
/* uspace.c: every trap from VU- or VS-mode but a native thread's ecall */
_Noreturn void riscv_user_trap(struct arch_regs *r, uint64_t cause);

/* cpu.c */
struct cpu;
void riscv_cpu_setup(struct cpu *c);
void riscv_irq_resync(void); /* QEMU 7.2 lost a pending VS timer interrupt */
extern bool riscv_sstc; /* the hart has stimecmp (set once, on the boot hart) */
static inline bool riscv_has_sstc(void) { return riscv_sstc; }
unsigned riscv_vmid_bits(void);

/* mmu.c */
void riscv_mmu_enable(void);
/* timer.c: ticks per second */
extern uint64_t riscv_timer_freq;
/* plic.c */
void plic_handle(void);
