/* The guest a VMM runs: its physical map (QEMU virt's), and what the root
 * task tells the VMM about it, from the system description
 * (servers/root/sysdesc.c): a page of configuration in the VMM's slot
 * VMM_SLOT_CONFIG.  Plain data, shared by the VMM, the root task and the
 * host's tests. */
#pragma once
#include <stdint.h>

#define GUEST_GICD 0x08000000ull
#define GUEST_GICD_SIZE 0x10000ull
#define GUEST_GICR 0x080a0000ull
#define GUEST_GICR_STRIDE 0x20000ull   /* RD_base and SGI_base frames */
#define GUEST_UART 0x09000000ull
#define GUEST_UART_SPI 1               /* INTID 33 */
#define VMM_VDEVS 3                    /* virtio-mmio slots, 0x200 apart */
#if defined(__x86_64__) && !__STDC_HOSTED__
/* The x86_64 guest is a PC: RAM from 0 (Linux wants some below 1 MiB),
 * the virtio-mmio slots below the APICs, their interrupts IOAPIC pins.
 * (The x86_64 servers are freestanding builds; the host's unit tests,
 * hosted, check system descriptions against QEMU virt's map below.) */
#define GUEST_RAM 0ull
#define GUEST_VIRTIO 0xd0000000ull
#define GUEST_VIRTIO_INTID 16          /* IOAPIC pin 16; slot i: 16 + i */
#else
#define GUEST_RAM 0x40000000ull
#define GUEST_VIRTIO 0x0a000000ull    /* QEMU virt's first virtio-mmio slot */
#define GUEST_VIRTIO_INTID 48          /* SPI 16, edge; slot i: 48 + i */
#endif
#define VGIC_IRQS 96                   /* SGIs, PPIs and 64 SPIs */
#define GUEST_VCPUS_MAX 4

/* Which guest of the system this VMM runs (1, 2, ...): the badge of a
 * notification the root task gives it here (none: 1).  The VMM waits on
 * it (its interrupts are delivered there), and the root task signals
 * VMM_EVENT_RECONNECT on it when it has restarted a backend. */
#define VMM_SLOT_ID 12
#define VMM_EVENT_RECONNECT (1u << 7)
/* The configuration page (struct guest_config), read-only. */
#define VMM_SLOT_CONFIG 13
/* The supervisor's endpoint: the VMM sends GUEST_STOPPED here when its
 * guest powers off for good (none: it powers the machine off itself). */
#define VMM_SLOT_SUPERVISOR 14
#define GUEST_STOPPED 0x5709       /* label; mr0: 0 powered off, 1 failed */
/* The monitor's notification (the guest with console input): Ctrl-T on
 * the console signals MONITOR_KEY there instead of reaching the guest. */
#define VMM_SLOT_MONITOR 15
#define MONITOR_KEY (1u << 3)
#define MONITOR_CHAR 0x14          /* Ctrl-T, BSD's status key */
/* The backend of virtio-mmio slot i (0 block, 1 net, 2 console): its
 * endpoint, badged for this guest, here; its notification in the next slot. */
#define VMM_SLOT_VDEV(i) (16 + 2 * (i))

#define GUEST_PASS_MAX 4
#define GUEST_CONFIG_MAGIC 0x4e4f435453455547ull /* "GUESTCON" */

/* A device of the machine the guest owns: its registers mapped at the
 * same address in the guest, its interrupt forwarded as the same SPI. */
struct guest_passthrough {
	uint64_t pa, size;
	uint64_t intid;                /* 0: none */
	uint64_t compatible_len;       /* the machine's "compatible", NULs inside */
	char compatible[64];
	char name[32];                 /* its node name */
};

struct guest_config {
	uint64_t magic;
	uint64_t vcpus, mem_mib;
	uint64_t cpu[GUEST_VCPUS_MAX]; /* physical CPU of each VCPU */
	uint64_t prio;                 /* the VCPUs' priority (the VMM's is one above) */
	uint64_t console_input;        /* this guest reads the console */
	char name[32];
	char kernel[48], initramfs[48]; /* boot module names */
	char bootargs[256];            /* appended to the VMM's own */
	uint64_t npass;
	struct guest_passthrough pass[GUEST_PASS_MAX];
};
_Static_assert(sizeof(struct guest_config) <= 4096, "the configuration fits a page");
