/* The x86_64 VMM's local APIC model (servers/vmm/x86_64/lapic.c), on the
 * host: IA32_APIC_BASE and its transitions, the x2APIC's registers as MSRs
 * (what exists, what is read-only or write-only, reserved bits), and where
 * IPIs go in either mode; and a virtio device's interrupt following the
 * guest's route (servers/vmm/virtio_mmio.c).  The system calls it makes (injections) are
 * recorded here instead of made: x86_sys is the trap's stand-in. */
#include "servers/vmm/vmm.h" /* before cmocka, whose run_tests is a macro */
#include "host.h"

#define NV 4
#define VCPU_CAP(i) (10 + (i))
#define BASE 0x1b
#define X2(off) (0x800 + ((off) >> 4))
#define EN (1ull << 11)
#define EXTD (1ull << 10)
#define BSP (1ull << 8)

static struct vmm m;
static struct { uint64_t nr, cap, a0, a1; } calls[64];
static unsigned ncalls, nstarts;
static uint64_t start_pc[NV];

uint64_t x86_sys(struct sysregs *r)
{
	if (ncalls < 64)
		calls[ncalls++] = (typeof(calls[0])){ r->nr, r->cap, r->mr[0], r->mr[1] };
	return E_OK;
}

cptr_t x86_timer_line(unsigned i) { return 100 + i; }

static unsigned nobjs;
cptr_t new_obj(enum obj_type type, uint64_t size)
{
	assert_int_equal(type, OBJ_NOTIFICATION);
	(void)size;
	nobjs++;
	return 77;
}

err_t vmm_start_vcpu(struct vmm *vm, unsigned i, uint64_t pc, uint64_t a0, uint64_t a1)
{
	(void)vm, (void)a0, (void)a1;
	start_pc[i] = pc;
	nstarts++;
	return E_OK;
}

void *new_page(cptr_t *frame) { (void)frame; return NULL; }
void slot_free(cptr_t s) { (void)s; }

static int setup(void **state)
{
	memset(&m, 0, sizeof m);
	m.nvcpus = NV;
	for (unsigned i = 0; i < NV; i++) {
		m.running[i] = i != NV - 1; /* the last not started yet */
		m.arch.lapic[i].started = m.running[i];
		m.vm.v[i].vcpu = VCPU_CAP(i);
	}
	ncalls = nstarts = 0;
	return 0;
}

static bool rd(unsigned vcpu, uint64_t msr, uint64_t *v) { return lapic_msr(&m, vcpu, msr, false, v); }
static bool wr(unsigned vcpu, uint64_t msr, uint64_t v) { return lapic_msr(&m, vcpu, msr, true, &v); }

/* The VCPUs that got vector vec, as a bit mask, and the calls forgotten. */
static unsigned injected(unsigned vec)
{
	unsigned got = 0;
	for (unsigned k = 0; k < ncalls; k++) {
		assert_int_equal(calls[k].nr, SYS_VCPU_INJECT);
		assert_int_equal(calls[k].a0, vec);
		got |= 1u << (calls[k].cap - VCPU_CAP(0));
	}
	ncalls = 0;
	return got;
}

static void test_base_transitions(void **state)
{
	uint64_t v;
	assert_true(rd(0, BASE, &v));
	assert_int_equal(v, GUEST_LAPIC | EN | BSP);
	assert_true(rd(1, BASE, &v));
	assert_int_equal(v, GUEST_LAPIC | EN);
	assert_false(rd(1, X2(0x20), &v));               /* xAPIC: no x2APIC MSRs */
	assert_false(wr(1, BASE, GUEST_LAPIC | EXTD));   /* EXTD without EN */
	assert_false(wr(1, BASE, GUEST_LAPIC | EN | 1ull << 9)); /* reserved */
	assert_false(wr(1, BASE, GUEST_LAPIC | EN | 1ull << 52));
	assert_true(wr(1, BASE, GUEST_LAPIC | EN | EXTD));
	assert_true(rd(1, BASE, &v));
	assert_int_equal(v, GUEST_LAPIC | EN | EXTD);
	assert_false(wr(1, BASE, GUEST_LAPIC | EN));     /* x2APIC straight to xAPIC */
	assert_true(rd(1, BASE, &v));
	assert_int_equal(v, GUEST_LAPIC | EN | EXTD);
	assert_true(wr(1, BASE, GUEST_LAPIC));           /* off, as Linux leaves it */
	assert_true(rd(1, BASE, &v));
	assert_int_equal(v, GUEST_LAPIC);
	assert_false(rd(1, X2(0x20), &v));
	assert_true(wr(1, BASE, GUEST_LAPIC | EN));      /* then xAPIC again */
	assert_true(wr(1, BASE, GUEST_LAPIC));
	assert_true(wr(1, BASE, GUEST_LAPIC | EN | EXTD)); /* or off to x2APIC */
}

static void test_x2_registers(void **state)
{
	uint64_t v;
	assert_true(wr(3, BASE, GUEST_LAPIC | EN | EXTD));
	assert_true(rd(3, X2(0x20), &v));
	assert_int_equal(v, 3);                          /* the whole ID, not << 24 */
	assert_true(rd(3, X2(0xd0), &v));
	assert_int_equal(v, 1u << 3);                    /* cluster 0, bit 3 */
	assert_true(rd(3, X2(0x30), &v));
	assert_int_equal(v & 0xff, 0x14);
	/* what does not exist: DFR, ICR's high half, APR, past the last */
	assert_false(rd(3, X2(0xe0), &v));
	assert_false(rd(3, X2(0x310), &v));
	assert_false(rd(3, X2(0x90), &v));
	assert_false(rd(3, 0x840, &v));
	assert_false(rd(3, 0x8ff, &v));
	assert_false(wr(3, 0x8ff, 0));
	/* write-only and read-only */
	assert_false(rd(3, X2(0xb0), &v));               /* EOI */
	assert_false(rd(3, X2(0x3f0), &v));              /* self IPI */
	assert_false(wr(3, X2(0x20), 5));                /* ID */
	assert_false(wr(3, X2(0xd0), 1));                /* LDR */
	assert_false(wr(3, X2(0x100), 0));               /* ISR */
	assert_false(wr(3, X2(0x30), 0));                /* version */
	assert_false(wr(3, X2(0x390), 0));               /* current count */
	/* EOI and ESR take only 0; reserved high halves refused */
	assert_true(wr(3, X2(0xb0), 0));
	assert_false(wr(3, X2(0xb0), 1));
	assert_true(wr(3, X2(0x280), 0));
	assert_false(wr(3, X2(0x280), 1));
	assert_false(wr(3, X2(0x80), 1ull << 32 | 0x20));
	assert_true(wr(3, X2(0x80), 0x20));
	assert_true(rd(3, X2(0x80), &v));
	assert_int_equal(v, 0x20);
	assert_true(wr(3, X2(0x320), 0x40ef));           /* the timer's LVT */
	assert_true(rd(3, X2(0x320), &v));
	assert_int_equal(v, 0x40ef);
	assert_int_equal(ncalls, 0);
}

static void test_x2_ipis(void **state)
{
	uint64_t v;
	for (unsigned i = 0; i < NV; i++)
		assert_true(wr(i, BASE, GUEST_LAPIC | EN | EXTD));
	assert_true(wr(0, X2(0x300), 2ull << 32 | 0x41));    /* physical, VCPU 2 */
	assert_int_equal(injected(0x41), 1u << 2);
	assert_true(rd(0, X2(0x300), &v));
	assert_int_equal(v, 2ull << 32 | 0x41);              /* delivered: not busy */
	assert_true(wr(0, X2(0x300), 0xaull << 32 | 1u << 11 | 0x42)); /* cluster 0, bits 1 and 3 */
	assert_int_equal(injected(0x42), 1u << 1);           /* 3 is not running yet */
	assert_true(wr(0, X2(0x300), 1ull << 48 | 1u << 11 | 0x42)); /* cluster 1: nobody */
	assert_int_equal(injected(0x42), 0);
	assert_true(wr(1, X2(0x300), 0xffffffffull << 32 | 0x43)); /* broadcast */
	assert_int_equal(injected(0x43), 7);
	assert_true(wr(1, X2(0x300), 3u << 18 | 0x44));      /* all but itself */
	assert_int_equal(injected(0x44), 5);
	assert_true(wr(2, X2(0x3f0), 0x45));                 /* self IPI */
	assert_int_equal(injected(0x45), 1u << 2);
	assert_false(wr(2, X2(0x3f0), 0x145));               /* reserved bits */
	assert_int_equal(ncalls, 0);
	/* INIT, then SIPI to page 9: VCPU 3 starts there, once */
	assert_true(wr(0, X2(0x300), 3ull << 32 | 5u << 8));
	assert_true(wr(0, X2(0x300), 3ull << 32 | 6u << 8 | 9));
	assert_int_equal(nstarts, 1);
	assert_int_equal(start_pc[3], 9ull << 12);
	assert_int_equal(ncalls, 0);
}

/* xAPIC mode is what Linux uses: MMIO, an 8-bit destination in ICR_HI,
 * the flat logical model. */
static void test_xapic_ipis(void **state)
{
	uint64_t v = 2ull << 24;
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x310, VMACC_WRITE, &v));
	v = 0x51;
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x300, VMACC_WRITE, &v));
	assert_int_equal(injected(0x51), 1u << 2);
	v = 0x4ull << 24; /* VCPU 1's logical ID: bit 2 */
	assert_true(lapic_mmio(&m, 1, GUEST_LAPIC + 0xd0, VMACC_WRITE, &v));
	v = 0x4ull << 24;
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x310, VMACC_WRITE, &v));
	v = 1u << 11 | 0x52;
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x300, VMACC_WRITE, &v));
	assert_int_equal(injected(0x52), 1u << 1);
	v = 0xffull << 24; /* physical broadcast */
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x310, VMACC_WRITE, &v));
	v = 0x53;
	assert_true(lapic_mmio(&m, 0, GUEST_LAPIC + 0x300, VMACC_WRITE, &v));
	assert_int_equal(injected(0x53), 7);
	assert_true(lapic_mmio(&m, 1, GUEST_LAPIC + 0x20, 0, &v));
	assert_int_equal(v, 1u << 24);
}

/* Once a VCPU is in x2APIC mode its MMIO page answers nothing: reads are
 * all ones, an ICR write sends nothing, the timer's LVT does not move;
 * another VCPU still in xAPIC mode keeps its page. */
static void test_x2_mmio_dark(void **state)
{
	uint64_t v;
	assert_true(wr(1, BASE, GUEST_LAPIC | EN | EXTD));
	assert_true(lapic_mmio(&m, 1, GUEST_LAPIC + 0x20, 0, &v));
	assert_int_equal(v, ~0ull);
	v = 0x61; /* to itself by shorthand */
	assert_true(lapic_mmio(&m, 1, GUEST_LAPIC + 0x300, VMACC_WRITE, &v));
	assert_int_equal(ncalls, 0);
	v = 0x10061;
	assert_true(lapic_mmio(&m, 1, GUEST_LAPIC + 0x320, VMACC_WRITE, &v));
	assert_true(rd(1, X2(0x320), &v));
	assert_int_equal(v, 0);
	assert_true(lapic_mmio(&m, 2, GUEST_LAPIC + 0x20, 0, &v));
	assert_int_equal(v, 2u << 24);
	assert_true(wr(1, X2(0x300), 1u << 18 | 0x62)); /* the MSR still sends */
	assert_int_equal(injected(0x62), 1u << 1);
}

/* EOIs never reach the VMM: the register is a doorbell on a notification
 * made once, bound again (E_BUSY, quietly) after a guest reset. */
static void test_eoi_sink(void **state)
{
	m.vm.as = 55;
	lapic_eoi_sink(&m);
	lapic_eoi_sink(&m);
	assert_int_equal(nobjs, 1);
	assert_int_equal(ncalls, 2);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(calls[k].nr, SYS_AS_BIND_DOORBELL);
		assert_int_equal(calls[k].cap, 55);
		assert_int_equal(calls[k].a0, GUEST_LAPIC + 0xb0);
		assert_int_equal(calls[k].a1, 77);
	}
}

/* A route change moves the device's notification to the new VCPU and
 * vector, and raises the interrupt there only if the device shows one the
 * driver has not acknowledged: a guest masks and unmasks the pin around
 * every edge it takes on a line being moved, and a raise at each unmask
 * fed a storm (linux-4vcpu-on-2cpus, 1 run in 4). */
static void test_vdev_route(void **state)
{
	static struct vdev_shared sh;
	struct vdev d = { .sh = &sh, .irq = 66, .irq_vcpu = 1, .irq_virq = 0x31 };
	m.vm.nvcpus = NV;
	vdev_route(&d, &m.vm, 3, 0x41);
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0].nr, SYS_VCPU_BIND_NOTIFICATION);
	assert_int_equal(calls[0].cap, VCPU_CAP(1));
	assert_int_equal(calls[0].a1, VIRQ_UNBIND);
	assert_int_equal(calls[1].nr, SYS_VCPU_BIND_NOTIFICATION);
	assert_int_equal(calls[1].cap, VCPU_CAP(3));
	assert_int_equal(calls[1].a0, 66);
	assert_int_equal(calls[1].a1, 0x41);
	assert_int_equal(d.irq_vcpu, 3);
	assert_int_equal(d.irq_virq, 0x41);
	ncalls = 0;
	vdev_route(&d, &m.vm, 3, 0x41); /* no change: nothing */
	assert_int_equal(ncalls, 0);
	sh.isr = 1; /* a completion not yet acknowledged follows the route */
	vdev_route(&d, &m.vm, 2, 0x51);
	assert_int_equal(ncalls, 3);
	assert_int_equal(calls[2].nr, SYS_VCPU_INJECT);
	assert_int_equal(calls[2].cap, VCPU_CAP(2));
	assert_int_equal(calls[2].a0, 0x51);
	ncalls = 0;
	vdev_route(&d, &m.vm, NV, 0x51); /* no such VCPU: stays */
	assert_int_equal(ncalls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_base_transitions, setup),
		cmocka_unit_test_setup(test_x2_registers, setup),
		cmocka_unit_test_setup(test_x2_ipis, setup),
		cmocka_unit_test_setup(test_xapic_ipis, setup),
		cmocka_unit_test_setup(test_x2_mmio_dark, setup),
		cmocka_unit_test_setup(test_eoi_sink, setup),
		cmocka_unit_test_setup(test_vdev_route, setup),
	};
	return RUN_TESTS("vlapic", tests);
}
