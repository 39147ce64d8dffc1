/* Guest benchmarks (part of cairn.root=bench): the test guest loops over one
 * kind of exit between two syncs, and the VMM here times the loop.  Under
 * -icount shift=0 the cycle counter counts instructions (guest, kernel and
 * VMM alike). */
#include "guests/test/guest.h"
#include "servers/root/root.h"
#include "servers/vmm/vm.h"

#define ITERS 10000
extern const char guest_test_image[], guest_test_image_end[];
#define IMAGE guest_test_image, (uint64_t)(guest_test_image_end - guest_test_image)

/* Answer exits like the test VMM until `syncs` sync-1 writes came; returns
 * the cycles from the first sync-0 exit to the last sync-1 exit. */
static uint64_t serve_timed(cptr_t ep, struct vm *vm, unsigned syncs)
{
	struct vm_exit x;
	uint64_t reply[5] = { 0 }, t0 = 0;
	if (vm_wait(ep, &x))
		return 0;
	for (;;) {
		reply[0] = VMREPLY_ADVANCE;
		if (x.label == VMEXIT_HVC) {
			reply[0] |= VMREPLY_REGS;
			reply[1] = VMM_PSCI_VERSION;
		} else if (x.w[0] == TDEV_IPA + TDEV_SYNC) {
			if (x.w[4] == 0 && !t0)
				t0 = cycles();
			if (x.w[4] == 1 && --syncs == 0)
				return cycles() - t0;
		} else if (x.w[0] == TDEV_IPA + TDEV_DATA && (x.w[3] & VMACC_WRITE)) {
			INV1(SYS_VCPU_INJECT, vm->v[0].vcpu, 40); /* BENCH_INJECT */
		} else if (x.w[0] == TDEV_IPA + TDEV_DATA) {
			reply[0] |= VMREPLY_READ;
			reply[1] = TDEV_PATTERN;
		} else if (x.w[0] == TDEV_IPA + TDEV_CLAIM) { /* riscv64's guest */
			uint64_t out[5] = { 0 };
			inv(SYS_VCPU_READ_REG, vm->v[0].vcpu, VREG_RV_CLAIM, 0, 0, 0, 0, 0, out);
			reply[0] |= VMREPLY_READ;
			reply[1] = out[0];
		}
		if (vm_reply_wait(ep, reply, &x))
			return 0;
	}
}

static void bench(const char *name, enum guest_bench kind, unsigned nvms, unsigned per)
{
	if (!bench_wanted(name))
		return;
	struct vm vms[2] = { 0 };
	struct child server = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), hc = new_obj(OBJ_ENDPOINT, 0);
	bool ok = ep && hc && !child_create(&server, bench_server, 0, ROOT_PRIO) &&
		  !child_give(&server, 1, hc, R_READ) && !child_start(&server);
	for (unsigned i = 0; ok && i < nvms; i++)
		ok = !vm_create(&vms[i], i + 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		     !vm_add_vcpu(&vms[i], GUEST_RAM_IPA, GT_BENCH, kind, ITERS, 0, ROOT_PRIO) &&
		     !vm_give(&vms[i], 0, HC_EP_SLOT, hc, R_WRITE) && !vm_start(&vms[i], 0);
	uint64_t t = ok ? serve_timed(ep, &vms[0], nvms) : 0;
	if (t)
		printf("BENCH %s %lu instructions\n", name, t / (ITERS * per));
	else
		printf("bench: %s did not run\n", name);
	for (unsigned i = 0; i < nvms; i++)
		vm_destroy(&vms[i]);
	child_destroy(&server);
	slot_free(hc);
	slot_free(ep);
}

/* The VMM of vm_virq_roundtrip (and of vm-virq-cross-cpu): its guest's exits are riscv64's claims of
 * its external interrupts (the PLIC is a VMM's there), answered from the
 * kernel's pending set; other ISAs' guests take theirs without an exit.
 * Slot 1 is the exit endpoint, slot 2 the VCPU. */
void vm_claim_server(uint64_t arg)
{
	(void)arg;
	struct vm_exit x;
	uint64_t reply[5] = { VMREPLY_ADVANCE | VMREPLY_READ };
	for (err_t e = vm_wait(1, &x); !e; e = vm_reply_wait(1, reply, &x)) {
		uint64_t out[5] = { 0 };
		inv(SYS_VCPU_READ_REG, 2, VREG_RV_CLAIM, 0, 0, 0, 0, 0, out);
		reply[1] = out[0];
	}
}

/* A notification bound to virtual interrupt 40: signal it, the guest's
 * handler runs (on riscv64 claiming it through claim_server, two exits)
 * and answers with HC_SIGNAL on another, which this waits on.  With the
 * VCPU (and its claim server) on CPU `cpu`, timed by the wall clock
 * (`wall`): smpbench's vm_virq_cross_cpu_ns, the wake of a VCPU waiting
 * on another CPU, which a device's completion interrupt is. */
void bench_virq(unsigned cpu, bool wall)
{
	struct vm vm;
	struct child vmm = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), irq = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t back = new_obj(OBJ_NOTIFICATION, 0);
	bool ok = ep && irq && back &&
		  !vm_create(&vm, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  !vm_add_vcpu(&vm, GUEST_RAM_IPA, GT_BENCH, BENCH_VIRQ, ITERS, cpu, ROOT_PRIO) &&
		  !vm_give(&vm, 0, HC_NTFN_SLOT, back, R_WRITE) &&
		  !INV2(SYS_VCPU_BIND_NOTIFICATION, vm.v[0].vcpu, irq, 40) &&
		  !child_create(&vmm, vm_claim_server, 0, ROOT_PRIO) &&
		  !INV1(SYS_THREAD_SET_AFFINITY, vmm.thread, cpu) && !child_give(&vmm, 1, ep, R_READ) &&
		  !child_give(&vmm, 2, vm.v[0].vcpu, R_READ) && !child_start(&vmm) &&
		  !vm_start(&vm, 0);
	struct sysregs w = { .nr = SYS_WAIT, .cap = back };
	ok = ok && sys(&w) == E_OK; /* the guest is ready */
	uint64_t t0 = cycles(), n0 = counter_now();
	for (unsigned i = 0; ok && i < ITERS; i++) {
		w = (struct sysregs){ .nr = SYS_WAIT, .cap = back };
		ok = INV1(SYS_SIGNAL, irq, 1) == E_OK && sys(&w) == E_OK;
	}
	uint64_t t = cycles() - t0, ns = (counter_now() - n0) * 1000000 / counter_freq() * 1000;
	if (ok && wall)
		printf("BENCH vm_virq_cross_cpu_ns %lu ns\n", ns / ITERS);
	else if (ok)
		printf("BENCH vm_virq_roundtrip %lu instructions\n", t / ITERS);
	else
		printf("bench: vm_virq_roundtrip did not run\n");
	vm_destroy(&vm);
	child_destroy(&vmm);
	slot_free(back);
	slot_free(irq);
	slot_free(ep);
}

void run_bench_vm(void)
{
	bench("vm_hvc_roundtrip", BENCH_HVC, 1, 1);
	bench("vm_mmio_read_roundtrip", BENCH_MMIO, 1, 1);
	bench("vm_hypercall_ipc", BENCH_HYPERCALL, 1, 1);
	bench("vm_inject_roundtrip", BENCH_INJECT, 1, 1);
	/* two VMs' VCPUs on one CPU, each HC_YIELD a switch to the other */
	bench("vcpu_switch", BENCH_YIELD, 2, 2);
	if (bench_wanted("vm_virq_roundtrip"))
		bench_virq(0, false);
}
