/* The Linux VMM (cairn.root=linux): one guest with up to VM_MAX_VCPUS
 * VCPUs.  Generic here: the guest's RAM, kernel and initramfs, its exit
 * loop, console and virtio-mmio devices (linux.c, console.c,
 * virtio_mmio.c).  The ISA's own in servers/vmm/<arch>/: its interrupt
 * controller, UART or firmware console, firmware calls and DTB (AArch64:
 * GICv3, PL011, PSCI; riscv64: PLIC, SBI).  The guest's physical map is
 * QEMU virt's (AArch64's; riscv64 adds its PLIC). */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/virtio_mmio.h"
#include "vmm_arch.h"             /* servers/vmm/$(ARCH)/ */

extern unsigned vmm_index;

/* The guest's console as its VMM writes it: a line at a time, the second
 * guest's and later ones' lines tagged with their number; and what is typed
 * for it.  The ISA's UART model (or firmware console) reads and writes it. */
struct vcons {
	char line[96];
	unsigned len;
	bool midline;                  /* the last flush did not end a line */
	char rx[256];
	unsigned rx_head, rx_tail;
};

_Static_assert(GUEST_VCPUS_MAX == VM_MAX_VCPUS, "one limit");

struct vmm {
	const struct guest_config *cfg; /* from the root task, read-only */
	struct vm vm;
	unsigned nvcpus;               /* the guest's CPUs (VCPUs made as it starts them) */
	bool running[VM_MAX_VCPUS];
	unsigned cpu_of[VM_MAX_VCPUS]; /* physical CPU of each VCPU's thread */
	struct vcons cons;
	struct vmm_arch arch;          /* the ISA's device models (vmm_arch.h) */
	struct vdev dev[VMM_VDEVS];    /* virtio-mmio slots */
	const char *stopped;           /* why the guest stopped, once it has */
	uint64_t exits;
};

/* What each ISA's side (servers/vmm/<arch>/) gives the generic VMM. */
/* An MMIO access to its interrupt controller or UART by VCPU vcpu: false
 * when no such device is there.  *val is the value written, or receives
 * the value read. */
bool arch_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val);
/* Any other exit (firmware calls, system registers): the reply filled in;
 * false when the VCPU must not be resumed (m->stopped says if the guest
 * is gone). */
bool arch_exit(struct vmm *m, const struct vm_exit *x, uint64_t *reply);
/* The guest's DTB into buf; returns its size, 0 if it does not fit. */
uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size);
/* VCPU i is made: tell the kernel which of its interrupts are enabled. */
void arch_vcpu_init(struct vmm *m, unsigned i);
/* VCPU i, made before and stopped, starts again from reset at pc. */
err_t arch_vcpu_restart(struct vmm *m, unsigned i, uint64_t pc, uint64_t arg);
/* Raise interrupt irq (a passed-through device's line, a device model's). */
void arch_raise_irq(struct vmm *m, unsigned irq);
/* The exit loop's notification said `bits`: those from bit 8 are the ISA's. */
void arch_events(struct vmm *m, uint64_t bits);
/* Typed input arrived in m->cons.rx. */
void arch_console_input(struct vmm *m);
/* An exit the guest should not have made: said (a few times), and the
 * VCPU given an abort, as hardware without that device would. */
void vmm_refuse(const struct vm_exit *x, uint64_t *reply);
/* The kernel command line's console words, before the system's own. */
extern const char arch_console_args[];

/* The console (console.c): one character of the guest's output; the line
 * so far, written out; typed input into m->cons.rx (dropped when full). */
void vcons_put(struct vmm *m, char c);
void vcons_flush(struct vmm *m);
void vcons_input(struct vmm *m, const char *s, unsigned n);
static inline bool vcons_rx_empty(const struct vmm *m)
{
	return m->cons.rx_head == m->cons.rx_tail;
}
/* The next typed character (-1: none). */
int vcons_getc(struct vmm *m);

/* The virtio devices whose backends the root task gave this VMM (device
 * i: slots VMM_SLOT_VDEV(i) and the one after); after VCPU 0 exists. */
void virtio_start(struct vmm *m);
/* Their backends were restarted: connect again. */
void virtio_reconnect(struct vmm *m);
/* What the devices did, at the end. */
void virtio_report(const struct vmm *m);
/* The guest's interrupt controller routes `intid` to virtual interrupt
 * `virq` of VCPU `vcpu` now (a GICD_IROUTER write, a PLIC context's
 * enable: virq is intid; an IOAPIC entry: its vector): a device whose
 * completions raise it in the kernel follows. */
void vmm_irq_routed(struct vmm *m, unsigned intid, unsigned vcpu, unsigned virq);
/* Deliver interrupt line irq (a hardware line or a soft timer line) as
 * bit `bit` of the exit loop's notification; its handler, or 0. */
cptr_t vmm_claim_irq(uint64_t irq, unsigned bit);
/* Start VCPU i at pc with arguments a0 and a1 (the ISA's first two
 * argument registers): made when it is the next, else restarted. */
err_t vmm_start_vcpu(struct vmm *m, unsigned i, uint64_t pc, uint64_t a0, uint64_t a1);
void run_linux(void);
