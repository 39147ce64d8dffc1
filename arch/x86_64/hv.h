/* What the two x86 virtualization back ends (svm.c, vmx.c) share: the
 * operations generic VCPU code reaches through hyp/arch.h, which vmexit.c
 * forwards to the one this CPU has, and the exit decoding both use. */
#pragma once
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "vcpu/vcpu.h"

struct x86_hv {
	const char *name;
	void (*init_cpu)(void);      /* per CPU, at boot and after hotplug */
	void (*fini_cpu)(void);      /* before the CPU halts for hotplug */
	void (*load)(struct arch_vcpu *a);
	void (*save)(struct arch_vcpu *a);
	void (*flush_virqs)(struct vcpu *v);
	bool (*virq_pending)(void);
	void (*set_event)(uint64_t event); /* EVENTINJ's form */
	void (*enter)(struct pcpu *p, struct arch_regs *r, paddr_t root, /* never returns */
		      unsigned vmid);
	const struct pt_format *guest_format; /* AS_GUEST spaces' (NULL: the native one) */
};
extern const struct x86_hv svm_hv, vmx_hv;
bool x86_vmx_probe(void); /* vmx.c: what VMX offers will do (and its global part made) */
bool x86_svm_init_global(void); /* svm.c: its global part (false: no memory) */
const struct x86_hv *x86_hv(void); /* virt.c: NULL where neither is usable */

/* What the exit decoding needs of the guest's state, read from the VMCB
 * or the VMCS. */
struct x86_gview {
	uint64_t cr0, cr3, cr4, efer, cs_base;
	unsigned cs_attr; /* the VMCB's 12-bit form: L is bit 9, D bit 10 */
};

/* Events (SVM's EVENTINJ; VMX's interruption information is its low half,
 * the error code its high half). */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERR (1ull << 11)
#define EVENT_EXC (3ull << 8)
#define EFER_GUEST_BITS 0xd01ull /* SCE, LME, LMA, NXE */
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define CR0_PG (1ull << 31)
#define CR0_TS (1ull << 3)
#define CR4_PAE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKS (1ull << 24)
/* Page-fault error code bits. */
#define PF_WRITE (1ull << 1)
#define PF_USER (1ull << 2)
#define PF_FETCH (1ull << 4)

static inline uint64_t pa_of(const void *va) { return (uintptr_t)va - DIRECT_MAP; }
uint64_t *x86_gpr(struct arch_regs *r, unsigned n);
unsigned x86_fetch_insn(struct thread *t, const struct x86_gview *g, uint8_t *buf);
/* Guest physical to the kernel's view, RAM only (NULL for MMIO or
 * nothing); the caller holds the lock. */
const uint8_t *x86_gpa_ptr(struct thread *t, uint64_t gpa);
bool x86_gva_permits(struct thread *t, const struct x86_gview *g, uint64_t va, uint64_t err);
_Noreturn void x86_exit_interrupt(struct thread *t);
/* A second-level fault at gpa: err in SVM's NPF form (bit 1 write, bit 4
 * fetch, bit 33 in the guest's own page walk). */
_Noreturn void x86_exit_npf(struct thread *t, const struct x86_gview *g, uint64_t gpa,
			    uint64_t err, unsigned cpu);
_Noreturn void x86_exit_io(struct thread *t, unsigned port, unsigned size, bool in,
			   bool string, unsigned len, unsigned cpu);
_Noreturn void x86_exit_cpuid(struct thread *t, unsigned cpu);
_Noreturn void x86_exit_hypercall(struct thread *t, unsigned cpu);
/* An exit whose words are composed, to its VMM: syscall.c's fast path, else
 * kernel_vcpu_exit. */
_Noreturn void x86_exit_fast(struct thread *t, enum vmexit_label l, unsigned cpu);
/* Fixed-length exits' lengths (by SVM exit code), for VMREPLY_ADVANCE. */
unsigned x86_other_len(uint64_t code);

/* Which ASID or VPID a VCPU gets on this CPU, and whether its entry must
 * flush (the bookkeeping both back ends share). */
struct x86_tags {
	uint64_t tlb_seen;
	uint64_t root[64];
	uint16_t vmid[64];
	const struct arch_vcpu *vcpu[64];
	bool flush_next;
};
void x86_tag_loaded(struct x86_tags *s, struct arch_vcpu *a, unsigned ntags, unsigned cpu);
unsigned x86_tag_of(unsigned vmid, unsigned ntags);
bool x86_tag_enter(struct x86_tags *s, uint64_t root, unsigned vmid, unsigned ntags);
/* RDMSR or WRMSR of an MSR the VMM answers (edx:eax the value). */
_Noreturn void x86_exit_msr(struct thread *t, bool wr, unsigned cpu);
