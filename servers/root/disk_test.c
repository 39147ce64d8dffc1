/* cairn.root=disk: the root task as the disk driver's client, through the
 * channel the block server uses (servers/lib/blkchan.h), on QEMU's own
 * virtio-blk-pci disk.  It writes, kills the driver while requests are in
 * flight and starts another (which must replay them), reads everything
 * back, sends requests the driver must refuse, and checks that a driver's
 * restart leaks no memory.  With an IOMMU (QEMU's iommu=smmuv3), it also
 * makes a driver program its device to DMA outside its I/O space, and
 * revokes a frame under the device: both must fault and leave memory as it
 * was.  The host then finds the data in its image file
 * (tests/qemu/scenarios.py, disk_written). */
#include "servers/root/disk.h"

#define DATA_VA 0x3a00200000ull
#define VICTIM_VA 0x3a00400000ull
#define BASE_SECTOR 2048u /* 1 MiB in */
#define SECTORS_PER_SLOT (BLKCHAN_SLOT_BYTES / 512)

static struct disk d;
static cptr_t done_ntfn;
static unsigned failures;

static void expect(bool ok, const char *what)
{
	if (!ok) {
		printf("disk: FAILED: %s\n", what);
		failures++;
	}
}

/* The byte at disk offset o in generation gen (the host's check knows it). */
static uint8_t pattern(uint64_t o, unsigned gen)
{
	return (uint8_t)((o >> 9) * 131 + (o & 511) + gen * 17);
}

static uint8_t *slot_data(unsigned k) { return (uint8_t *)DATA_VA + k * BLKCHAN_SLOT_BYTES; }

static void submit(unsigned k, uint32_t op, uint64_t sector, uint32_t bytes)
{
	volatile struct blkchan_slot *s = &d.chan->slot[k];
	s->op = op, s->sector = sector, s->bytes = bytes, s->tag = k;
	__atomic_store_n(&s->state, SLOT_SUBMITTED, __ATOMIC_RELEASE);
}

static unsigned state(unsigned k)
{
	return __atomic_load_n(&d.chan->slot[k].state, __ATOMIC_ACQUIRE);
}

/* Wait for slots [0, n) to be done; free them; how many failed. */
static unsigned finish(unsigned n)
{
	for (;;) {
		unsigned done = 0, bad = 0;
		for (unsigned k = 0; k < n; k++)
			if (state(k) == SLOT_DONE)
				done++, bad += d.chan->slot[k].status != BLK_OK;
		if (done == n) {
			for (unsigned k = 0; k < n; k++)
				d.chan->slot[k].state = SLOT_FREE;
			return bad;
		}
		struct sysregs w = { .nr = SYS_WAIT, .cap = done_ntfn };
		sys(&w);
	}
}

/* A restart's cost, the driver's death to the first request it completes
 * (make bench's driver_restart_us): nothing in flight, the driver killed
 * and another started, one sector read (submitted at once: the new driver
 * takes what it finds submitted). */
static void time_restart(void)
{
	uint64_t t0 = counter_now();
	expect(!driver_restart(&d.drv), "a new driver starts");
	submit(0, BLK_OP_READ, BASE_SECTOR, 512);
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	expect(finish(1) == 0, "the first read after a restart");
	printf("BENCH driver_restart_us %lu us (death to the first completed request)\n",
	       (counter_now() - t0) * 1000000 / counter_freq());
}

/* Write generation gen over every slot's span from BASE_SECTOR. */
static void submit_writes(unsigned gen)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++) {
		uint64_t off = (BASE_SECTOR + (uint64_t)k * SECTORS_PER_SLOT) * 512;
		for (uint32_t i = 0; i < BLKCHAN_SLOT_BYTES; i++)
			slot_data(k)[i] = pattern(off + i, gen);
		submit(k, BLK_OP_WRITE, BASE_SECTOR + k * SECTORS_PER_SLOT, BLKCHAN_SLOT_BYTES);
	}
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
}

/* Kill the driver once the device holds some of a round of writes; its
 * successor must replay them.  Rounds until one replay happened (the device
 * may be quicker than the kill). */
static void kill_in_flight(unsigned *gen)
{
	uint64_t free_before = 0;
	for (unsigned round = 0; round < 8 && (round < 2 || !d.chan->replayed); round++) {
		driver_steal_irq(&d.drv, &d.chan->instances); /* it will not see the device finish... */
		submit_writes(++*gen);
		disk_catch_busy(&d); /* ...and holds some when it dies */
		expect(!driver_restart(&d.drv), "a new driver starts");
		expect(finish(BLKCHAN_SLOTS) == 0, "every write done after the restart");
		uint64_t stats[5];
		expect(!INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), "the kernel's invariants hold");
		/* another CPU may still be freeing the old driver (a thread it
		 * ran, then its space): a leak never settles */
		for (unsigned spin = 0; spin < 1000; spin++) {
			inv(SYS_DEBUG_STATS, ROOT_CONSOLE, 0, 0, 0, 0, 0, 0, stats);
			if (!round || stats[0] == free_before)
				break;
			INV0(SYS_YIELD, 0);
		}
		if (round && stats[0] != free_before)
			printf("disk: free pages %lu, before %lu, objects %lu\n", stats[0], free_before,
			       stats[1]);
		expect(!round || stats[0] == free_before, "a driver's restart leaks no memory");
		free_before = stats[0];
	}
	expect(d.chan->replayed > 0, "a request in flight was replayed");
}

static void read_back(unsigned gen)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++) {
		memset(slot_data(k), 0, BLKCHAN_SLOT_BYTES);
		submit(k, BLK_OP_READ, BASE_SECTOR + k * SECTORS_PER_SLOT, BLKCHAN_SLOT_BYTES);
	}
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	expect(finish(BLKCHAN_SLOTS) == 0, "every read done");
	unsigned wrong = 0;
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++) {
		uint64_t off = (BASE_SECTOR + (uint64_t)k * SECTORS_PER_SLOT) * 512;
		for (uint32_t i = 0; i < BLKCHAN_SLOT_BYTES; i++)
			wrong += slot_data(k)[i] != pattern(off + i, gen);
	}
	expect(!wrong, "what was written is read back");
}

/* Requests the driver must refuse without the device; then a good one. */
static void refused(void)
{
	uint64_t cap = d.chan->capacity;
	struct { uint32_t op, bytes; uint64_t sector; } bad[] = {
		{ BLK_OP_READ, 0, 0 }, { BLK_OP_READ, 100, 0 },
		{ BLK_OP_READ, BLKCHAN_SLOT_BYTES + 512, 0 }, { BLK_OP_WRITE, 1024, cap - 1 },
		{ BLK_OP_READ, 512, cap }, { BLK_OP_READ, 512, ~0ull }, { 7, 512, 0 },
	};
	unsigned n = sizeof(bad) / sizeof(bad[0]);
	for (unsigned k = 0; k < n; k++)
		submit(k, bad[k].op, bad[k].sector, bad[k].bytes);
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	expect(finish(n) == n, "every bad request refused");
	static const char mark[] = "cairn disk driver wrote this sector";
	for (unsigned i = 0; i < 512; i++)
		slot_data(0)[i] = (uint8_t)mark[i % (sizeof(mark) - 1)];
	submit(0, BLK_OP_WRITE, 1, 512);
	submit(1, BLK_OP_FLUSH, 0, 0);
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	expect(finish(2) == 0, "a good write and a flush after them");
}

static void wait_for(volatile uint64_t *v, uint64_t until)
{
	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) != until) {
		struct sysregs w = { .nr = SYS_WAIT, .cap = done_ntfn };
		sys(&w);
	}
}

static uint64_t stream_faults(void)
{
	uint64_t info[5] = { 0 };
	inv(SYS_STREAM_INFO, d.drv.stream, 0, 0, 0, 0, 0, 0, info);
	return info[1];
}

/* A driver programs its device to read a sector into a frame it was never
 * given: the IOMMU faults and the frame keeps its bytes. */
static void stray_dma(void)
{
	cptr_t victim = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	uint64_t info[5];
	if (!victim || INV3(SYS_AS_MAP, ROOT_ASPACE, victim, VICTIM_VA, R_READ | R_WRITE) ||
	    inv(SYS_FRAME_INFO, victim, 0, 0, 0, 0, 0, 0, info)) {
		expect(false, "a victim frame");
		return;
	}
	memset((void *)VICTIM_VA, 0x5a, 4096);
	d.chan->stray = info[2];
	expect(!driver_restart(&d.drv), "a driver that strays starts");
	wait_for(&d.chan->stray, 0);
	expect(d.chan->stray_faults > 0, "the IOMMU reported the stray DMA");
	unsigned changed = 0;
	for (unsigned i = 0; i < 4096; i++)
		changed += ((volatile uint8_t *)VICTIM_VA)[i] != 0x5a;
	expect(!changed, "the frame outside the I/O space is untouched");
	slot_free(victim);
}

/* The data frame revoked under the device: its copies in the driver's I/O
 * space go with the IOMMU's TLB flushed before CNODE_REVOKE returns, so
 * the next DMA there faults and the frame keeps its bytes.  (QEMU's
 * virtio-blk then either breaks or, having mapped the buffer through a
 * bounce buffer, completes the read with its data dropped.)  A new driver,
 * given the frame again, reads it. */
static void revoke_dma(unsigned gen)
{
	memset(slot_data(0), 0xa5, 4096);
	uint64_t before = stream_faults();
	expect(!INV1(SYS_CNODE_REVOKE, ROOT_CNODE, d.data_frame), "the data frame revoked");
	submit(0, BLK_OP_READ, BASE_SECTOR, 4096);
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	for (unsigned spin = 0; spin < 100000 && stream_faults() == before; spin++)
		INV0(SYS_YIELD, 0);
	expect(stream_faults() > before, "DMA to the revoked frame faulted");
	cptr_t view = slot_alloc(); /* the root's own view went with the revoke */
	if (!view || INV4(SYS_CNODE_COPY, ROOT_CNODE, view, ROOT_CNODE, d.data_frame, R_ALL) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, view, DATA_VA, R_READ | R_WRITE)) {
		expect(false, "the data frame mapped again");
		return;
	}
	unsigned changed = 0;
	for (unsigned i = 0; i < 4096; i++)
		changed += slot_data(0)[i] != 0xa5;
	expect(!changed, "the revoked frame is untouched");
	expect(!driver_restart(&d.drv), "a new driver after the revoke");
	finish(1); /* replayed, or done with its data dropped */
	submit(0, BLK_OP_READ, BASE_SECTOR, 4096);
	INV1(SYS_SIGNAL, d.drv.ntfn, BLKCHAN_KICK);
	expect(finish(1) == 0, "a read through the new driver");
	for (unsigned i = 0; i < 4096; i++)
		if (slot_data(0)[i] != pattern(BASE_SECTOR * 512ull + i, gen) && !changed++)
			printf("disk: byte %u is 0x%x, not 0x%x (replayed %lu)\n", i, slot_data(0)[i],
			       pattern(BASE_SECTOR * 512ull + i, gen), d.chan->replayed);
	expect(!changed, "and its data read");
}

void run_disk_test(void)
{
	done_ntfn = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t view = slot_alloc();
	if (!done_ntfn || !disk_start(&d, done_ntfn, 0, NULL) || !view ||
	    INV4(SYS_CNODE_COPY, ROOT_CNODE, view, ROOT_CNODE, d.data_frame, R_ALL) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, view, DATA_VA, R_READ | R_WRITE)) {
		printf("disk: FAILED: no disk to test\n");
		return;
	}
	while (!__atomic_load_n(&d.chan->capacity, __ATOMIC_ACQUIRE)) {
		struct sysregs w = { .nr = SYS_WAIT, .cap = done_ntfn };
		sys(&w);
	}
	unsigned gen = 1;
	submit_writes(gen);
	expect(finish(BLKCHAN_SLOTS) == 0, "2 MiB written");
	read_back(gen);
	kill_in_flight(&gen);
	read_back(gen);
	time_restart();
	if (d.chan->confined) {
		stray_dma();
		revoke_dma(gen);
		read_back(gen);
	} else {
		printf("disk: the device's DMA is not confined (no IOMMU): not tested here\n");
	}
	refused();
	printf("disk: %lu requests, %u driver restarts, %lu replayed, DMA %s: %s\n",
	       d.chan->completed, d.drv.restarts, d.chan->replayed,
	       d.chan->confined ? "confined, 2 strays faulted" : "unconfined",
	       failures ? "FAILED" : "data intact");
}
