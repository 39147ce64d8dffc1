/* Guests on x86_64 (AMD SVM): the exits AArch64 has no form of, I/O
 * ports, CPUID and MSRs, answered by a VMM here; and guests whose VMM
 * gives them nonsense state (every register the VMCB holds), which may
 * only hurt themselves. */
#include "guests/test/guest.h"
#include "servers/root/check.h"
#include "servers/vmm/vm.h"

extern const char guest_test_image[], guest_test_image_end[];
#define IMAGE guest_test_image, (uint64_t)(guest_test_image_end - guest_test_image)
#define CARN 0x6e726143u /* "Carn": this VMM's CPUID signature */

/* One port exit: the expected port, size (log2), direction and value. */
static bool port_ok(const struct vm_exit *x, uint64_t port, unsigned size, bool write, uint64_t val)
{
	uint64_t acc = x->w[3];
	return x->w[0] == (VMEXIT_IO_PORT | port) && (acc & VMACC_VALID) &&
	       (acc & VMACC_SIZE_MASK) == size && !!(acc & VMACC_WRITE) == write &&
	       (!write || x->w[4] == val) && x->w[5] >= 1 && x->w[5] <= 2;
}

/* The answers GT_X86_PORTS expects, in its order; false on anything else. */
static bool ports_step(unsigned step, const struct vm_exit *x, uint64_t *reply)
{
	reply[0] = VMREPLY_ADVANCE;
	switch (step) {
	case 0: return x->label == VMEXIT_DATA_ABORT && port_ok(x, 0x80, 0, true, 0x5a);
	case 1: return x->label == VMEXIT_DATA_ABORT && port_ok(x, 0x510, 1, true, 0x1234);
	case 2:
	case 3:
		reply[0] |= VMREPLY_READ;
		reply[1] = step == 2 ? 0x88 : TDEV_PATTERN; /* cut to the size */
		return x->label == VMEXIT_DATA_ABORT &&
		       port_ok(x, step == 2 ? 0x71 : 0x511, step == 2 ? 0 : 2, false, 0);
	case 4:
	case 5: /* CPUID 0, then the hypervisor leaf */
		reply[0] |= VMREPLY_REGS;
		reply[1] = 0x40000000, reply[2] = reply[3] = reply[4] = CARN;
		return x->label == VMEXIT_SYSREG &&
		       x->w[0] == (VMEXIT_CPUID | (step == 4 ? 0 : 0x40000000)) && x->w[4] == 0;
	case 6: /* rdmsr 0x10 */
		reply[0] |= VMREPLY_READ;
		reply[1] = TDEV_PATTERN;
		return x->label == VMEXIT_SYSREG && x->w[0] == 0x10 && !(x->w[3] & VMACC_WRITE);
	case 7: /* wrmsr 0x8b, edx:eax */
		return x->label == VMEXIT_SYSREG && x->w[0] == 0x8b && (x->w[3] & VMACC_WRITE) &&
		       x->w[4] == 0x5566778811223344ull;
	default: /* its result */
		return x->label == VMEXIT_DATA_ABORT && x->w[0] == TDEV_IPA + TDEV_RESULT &&
		       x->w[4] == TEST_PASS;
	}
}

static bool t_vm_x86_ports(void)
{
	struct accounts before = accounts_read();
	struct vm vm;
	struct vm_exit x;
	uint64_t reply[5] = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	unsigned step = 0;
	bool ok = ep && !vm_create(&vm, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  !vm_add_vcpu(&vm, GUEST_RAM_IPA, GT_X86_PORTS, 0, 0, 0, ROOT_PRIO) &&
		  !vm_start(&vm, 0) && !vm_wait(ep, &x);
	for (; ok && step < 8 && ports_step(step, &x, reply); step++)
		ok = !vm_reply_wait(ep, reply, &x);
	if (ok && !ports_step(step, &x, reply))
		printf("root: step %u: exit %lu 0x%lx 0x%lx 0x%lx 0x%lx\n", step, x.label, x.w[0],
		       x.w[2], x.w[3], x.w[4]), ok = false;
	vm_destroy(&vm);
	if (ep)
		slot_free(ep);
	CHECK(ok);
	/* The guest left its CR8 at 15: were that the host APIC's TPR, no
	 * timer would reach this CPU again (sleep_ms would never return). And
	 * a VMX exit leaves GDTR's limit at 0xffff, which ring 3 could use to
	 * load descriptors made of kernel data: the kernel loads it again. */
	cptr_t n, irq;
	CHECK(timer_take(&n, &irq));
	CHECK(sleep_ms(irq, n, 10));
	slot_free(irq);
	slot_free(n);
#ifdef __x86_64__ /* this file is built for every port; the test runs on x86_64 */
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	CHECK(gdtr.limit < 0x1000);
#endif
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-x86-ports-cpuid-msr", t_vm_x86_ports, BOOT_HAS_VCPU | UARCH_IS_X86_64);

/* Page faults of the guest's own making arrive as the CPU gives them (CR2,
 * error code), through the kernel's check where it intercepts #PF (svm.c,
 * exit_pf): the guest checks them itself and reports. */
static bool t_vm_x86_pf(void)
{
	struct accounts before = accounts_read();
	struct vm vm;
	struct vm_exit x;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	bool ok = ep && !vm_create(&vm, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  !vm_add_vcpu(&vm, GUEST_RAM_IPA, GT_X86_PF, 0, 0, 0, ROOT_PRIO) &&
		  !vm_start(&vm, 0) && !vm_wait(ep, &x);
	if (ok && !(x.label == VMEXIT_DATA_ABORT && x.w[0] == TDEV_IPA + TDEV_RESULT &&
		    x.w[4] == TEST_PASS))
		printf("root: exit %lu 0x%lx 0x%lx 0x%lx 0x%lx\n", x.label, x.w[0], x.w[2], x.w[3],
		       x.w[4]), ok = false;
	vm_destroy(&vm);
	if (ep)
		slot_free(ep);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-x86-page-faults", t_vm_x86_pf, BOOT_HAS_VCPU | UARCH_IS_X86_64);

/* An INT3 cut short by an exit (svm.c): the guest's INT3 pushes its frame
 * onto a page mapped read-only, which exits as a write fault; mapped
 * writable, the guest runs on and counts its INT3s (one, returning past
 * it) itself. */
static bool t_vm_x86_int3(void)
{
	struct accounts before = accounts_read();
	struct vm vm;
	struct vm_exit x = { 0 };
	const uint64_t again[5] = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), stack = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	bool ok = ep && stack && !vm_create(&vm, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  INV3(SYS_AS_MAP, vm.as, stack, INT3_STACK_IPA, R_READ) == E_OK &&
		  !vm_add_vcpu(&vm, GUEST_RAM_IPA, GT_X86_INT3, 0, 0, 0, ROOT_PRIO) &&
		  !vm_start(&vm, 0) && !vm_wait(ep, &x);
	bool fault = ok && x.label == VMEXIT_DATA_ABORT && x.w[0] >> 12 == INT3_STACK_IPA >> 12 &&
		     (x.w[3] & VMACC_WRITE);
	ok = fault && INV1(SYS_AS_UNMAP, vm.as, stack) == E_OK &&
	     INV3(SYS_AS_MAP, vm.as, stack, INT3_STACK_IPA, R_READ | R_WRITE) == E_OK &&
	     !vm_reply_wait(ep, again, &x);
	if (!(ok && x.label == VMEXIT_DATA_ABORT && x.w[0] == TDEV_IPA + TDEV_RESULT &&
	      x.w[4] == TEST_PASS))
		printf("root: %s exit %lu 0x%lx 0x%lx 0x%lx 0x%lx\n", fault ? "after the fault:" : "",
		       x.label, x.w[0], x.w[2], x.w[3], x.w[4]), ok = false;
	vm_destroy(&vm);
	if (stack)
		slot_free(stack);
	if (ep)
		slot_free(ep);
	CHECK(ok);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-x86-int3-cut-short", t_vm_x86_int3, BOOT_HAS_VCPU | UARCH_IS_X86_64);

/* --- Nonsense state ---------------------------------------------------------
 * Each round a guest starts with random values (or its reset values with
 * bits flipped) in random registers, the VMCB's and its general ones, and
 * is answered with random replies for up to BAD_EXITS exits or as long as
 * it runs without exiting, then destroyed.  VMRUN may refuse the state
 * (VMEXIT_OTHER, code -1), the guest may fault, shut down or run wild:
 * the kernel's invariants must hold and every byte come back. */
#define BAD_EXITS 16
#define BAD_POLLS 16

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

static void scramble(cptr_t v, uint64_t *s)
{
	for (uint64_t id = 0; id < VREG_X86_COUNT; id++) {
		uint64_t x = rnd(s), out[8] = { 0 };
		if (x % 3 || (id > VREG_PSTATE && id < VREG_FIRST_SYS) || id == VREG_X86_LDTR)
			continue;
		if (x & 8 && !inv(SYS_VCPU_READ_REG, v, id, 0, 0, 0, 0, 0, out))
			x = out[0] ^ 1ull << (x >> 8) % 64; /* one bit off a sane value */
		else
			x = rnd(s);
		INV2(SYS_VCPU_WRITE_REG, v, id, x); /* refusals are fine */
	}
}

static unsigned bad_round(cptr_t ep, uint64_t *s)
{
	struct vm vm;
	unsigned exits = 0;
	if (vm_create(&vm, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) ||
	    vm_add_vcpu(&vm, GUEST_RAM_IPA, GT_MMIO, 0, 0, 0, ROOT_PRIO)) {
		vm_destroy(&vm);
		return ~0u;
	}
	scramble(vm.v[0].vcpu, s);
	vm_start(&vm, 0);
	for (unsigned polls = 0; exits < BAD_EXITS && polls < BAD_POLLS;) {
		struct sysregs r = { .nr = SYS_NB_RECV, .cap = ep };
		if (sys(&r) != E_OK) {
			INV0(SYS_YIELD, 0);
			polls++;
			continue;
		}
		exits++;
		uint64_t x = rnd(s);
		r = (struct sysregs){ .nr = SYS_REPLY, .info = msginfo(0, 5, 0),
				      .mr = { x & 15, rnd(s), rnd(s), rnd(s), rnd(s) } };
		sys(&r);
	}
	vm_destroy(&vm);
	return exits;
}

static bool t_vm_x86_bad_state(void)
{
	struct accounts before = accounts_read();
	uint64_t rounds = bootarg_u64("vmbad.rounds=", 50), seed = bootarg_u64("vmbad.seed=", cycles() | 1), s = seed;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	uint64_t exits = 0;
	CHECK(ep);
	printf("root: vm-x86-bad-state: seed %lu (vmbad.seed= repeats it)\n", seed);
	for (uint64_t i = 0; i < rounds; i++) {
		unsigned n = bad_round(ep, &s);
		CHECK(n != ~0u);
		exits += n;
	}
	slot_free(ep);
	printf("root: vm-x86-bad-state: seed %lu, %lu rounds, %lu exits answered at random\n",
	       seed, rounds, exits);
	CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-x86-bad-state", t_vm_x86_bad_state, BOOT_HAS_VCPU | UARCH_IS_X86_64);

/* Whether the CPU is Intel's, whose VMX Cairn uses (GenuineIntel). */
static bool intel(void)
{
	uint32_t b = 0, c = 0, d = 0;
#ifdef __x86_64__
	uint32_t a = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
#endif
	return b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu;
}

/* On VMX a VCPU's thread runs only in an AS_GUEST space (EPT's format):
 * a native one, whose entries EPT would misread, is refused at the bind
 * and at THREAD_CONFIGURE; on SVM (NPT walks the native format) both do. */
static bool t_vm_x86_space_kinds(void)
{
	struct accounts before = accounts_read();
	cptr_t v = new_obj(OBJ_VCPU, 0), th = new_obj(OBJ_THREAD, 0);
	cptr_t native = new_obj(OBJ_ASPACE, 0), guest = new_obj(OBJ_ASPACE, AS_GUEST);
	err_t want = intel() ? E_INVAL : E_OK;
	CHECK(v && th && native && guest);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, native, 0), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, th), want);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, guest, 0), E_OK);
	if (want)
		CHECK_ERR(INV1(SYS_VCPU_BIND, v, th), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, native, 0), want);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, guest, 0), E_OK);
	CHECK_ERR(INV1(SYS_VCPU_BIND, v, 0), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, native, 0), E_OK); /* native again */
	slot_free(v);
	slot_free(th);
	slot_free(native);
	slot_free(guest);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("vm-x86-space-kinds", t_vm_x86_space_kinds, BOOT_HAS_VCPU | UARCH_IS_X86_64);
