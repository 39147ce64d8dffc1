/* The Cairn system-call ABI: numbers, object types, rights, message layout
 * and the root task's boot information.  Shared by the kernel and user space;
 * docs/ABI.md describes every call.  Architecture-neutral: the registers
 * that carry each field are listed per ISA in docs/ABI.md (AArch64: x0-x7
 * message/arguments, x8 number in / error out, x9 capability address in /
 * badge out, x10 message info, x11-x13 capabilities sent, x14 receive slot). */
#pragma once
#include <stdint.h>
#include "cairn/error.h"

typedef uint64_t cptr_t; /* capability address, resolved in the caller's CSpace */

/* --- System calls -------------------------------------------------------- */
enum sys {
	/* IPC on endpoints (x9 = endpoint) and notifications. */
	SYS_SEND = 0,      /* blocking send */
	SYS_NB_SEND,       /* send only if a receiver waits */
	SYS_CALL,          /* send, then wait for the reply (one-shot reply right) */
	SYS_RECV,          /* wait for a message (or the bound notification) */
	SYS_NB_RECV,       /* receive only if a sender waits */
	SYS_REPLY,         /* answer the last caller */
	SYS_REPLY_RECV,    /* reply, then receive: a server's loop */
	SYS_SIGNAL,        /* x9 = notification, x0 = bits to set */
	SYS_WAIT,          /* x9 = notification; returns and clears its bits */
	SYS_POLL,          /* the same without blocking */
	SYS_YIELD,         /* end this timeslice */
	/* Memory (x9 = Memory capability). */
	SYS_MEM_RETYPE = 16, /* x0 type, x1 size, x2 dest CNode, x3 dest index */
	SYS_MEM_INFO,        /* -> x0 quota, x1 used, x2 NUMA node (MEM_NODE_ANY) */
	/* CNode (x9 = CNode the slots are in). */
	SYS_CNODE_COPY = 24, /* x0 dst idx, x1 src CNode, x2 src idx, x3 rights mask */
	SYS_CNODE_MINT,      /* as copy, x4 badge (or guard for CNodes) */
	SYS_CNODE_MOVE,      /* x0 dst idx, x1 src CNode, x2 src idx */
	SYS_CNODE_DELETE,    /* x0 idx */
	SYS_CNODE_REVOKE,    /* x0 idx: delete every capability derived from it */
	SYS_CNODE_IDENTIFY,  /* x0 idx -> x0 type, x1 rights, x2 badge (frame: va or ~0),
	                      * x3 has children */
	/* Thread (x9 = Thread). */
	SYS_THREAD_CONFIGURE = 32, /* x0 CSpace root, x1 AddressSpace, x2 fault ep */
	SYS_THREAD_WRITE_REGS,     /* x0 pc, x1 sp, x2 arg0, x3 arg1 */
	SYS_THREAD_READ_REGS,      /* -> x0 pc, x1 sp, x2 arg0, x3 arg1, x4 state */
	SYS_THREAD_SET_PRIORITY,   /* x0 priority, x1 MCP */
	SYS_THREAD_SET_AFFINITY,   /* x0 cpu */
	SYS_THREAD_RESUME,         /* start or resume */
	SYS_THREAD_SUSPEND,        /* stop; cancels a blocked operation */
	SYS_THREAD_BIND_NOTIFICATION, /* x0 notification (0: unbind) */
	/* AddressSpace (x9 = AddressSpace) and Frame. */
	SYS_AS_MAP = 40,     /* x0 frame, x1 vaddr, x2 rights */
	SYS_AS_UNMAP,        /* x0 frame */
	SYS_AS_PROTECT,      /* x0 frame, x1 rights */
	SYS_FRAME_INFO,      /* x9 frame -> x0 size, x1 mapped vaddr or ~0 */
	SYS_AS_BIND_DOORBELL, /* x0 IPA, x1 notification (0: unbind), x2 bits */
	SYS_AS_GUEST_FENCE,  /* x0 GUEST_FENCE_* bits: its guests' fences, every CPU */
	SYS_AS_BIND_STATUS,  /* x0 IPA, x1 frame (0: unbind), x2 offset of the word in it */
	/* Interrupts. */
	SYS_IRQ_GET = 48,    /* x9 IRQ control, x0 irq, x1 dest CNode, x2 dest idx */
	SYS_IRQ_SET_NOTIFICATION, /* x9 handler, x0 notification, x1 bits */
	SYS_IRQ_ACK,         /* x9 handler: unmask the line again */
	SYS_STREAM_GET,      /* x9 IRQ control, x0 stream ID, x1 dest CNode, x2 dest idx */
	SYS_STREAM_BIND,     /* x9 stream, x0 I/O space (0: unbind) */
	SYS_STREAM_INFO,     /* x9 stream -> x0 bound, x1 faults, x2 last fault address */
	SYS_IRQ_SET_TIMER,   /* x9 handler of a soft timer line, x0 deadline (SOFT_TIMER_OFF) */
	SYS_IRQ_MSI_MESSAGE, /* x9 handler of an MSI line -> x0 MSI address, x1 MSI data */
	/* Debug console (x9 = Console). */
	SYS_DEBUG_WRITE = 56, /* x10 length (<= 64), bytes in x0-x7 */
	SYS_DEBUG_STATS,      /* x0 node -> x0 free pages, x1 kernel objects, x2 the
	                       * node's free pages, x3 its pages */
	SYS_DEBUG_POWEROFF,
	SYS_DEBUG_CHECK,      /* walk the kernel's structures: E_OK or E_INVAL */
	SYS_DEBUG_READ,       /* console input: x0 up to 8 bytes, x1 how many */
	/* VCPUs (x9 = VCPU; include/cairn/vcpu.h has the exit messages). */
	SYS_VCPU_BIND = 64,   /* x0 thread (0: unbind); the thread must be stopped */
	SYS_VCPU_READ_REG,    /* x0 register id -> x0 value; the thread must be stopped */
	SYS_VCPU_WRITE_REG,   /* x0 register id, x1 value; the thread must be stopped */
	SYS_VCPU_INJECT,      /* x0 virtual interrupt: make it pending */
	SYS_VCPU_SET_VIRQ,    /* x0 virtual interrupt, x1 1 enable / 0 disable */
	SYS_VCPU_BIND_NOTIFICATION, /* x0 notification, x1 virtual interrupt its
				     * signals raise (VIRQ_UNBIND: unbind) */
	/* Statistics for a monitor (docs/ABI.md): reading them needs the
	 * system authority, x9 = IRQ control. */
	SYS_THREAD_SET_NAME = 72, /* x9 thread, x0-x1 the name's 16 bytes (little-endian) */
	SYS_STATS_CPU,        /* x0 cpu -> x0 now, x1 idle, x2 busy (ticks), x3 current
			       * thread's id (0: idle), x4 ticks per second */
	SYS_STATS_THREAD,     /* x0 index, x1 page (enum stats_page) -> x0 id, x1-x4 */
	SYS_THREAD_SET_WEIGHT, /* x9 thread, x0 weight (1-65535; 0: round robin) */
	SYS_THREAD_SET_BUDGET, /* x9 thread, x0 budget, x1 period (microseconds; 0, 0: none;
				* 0, BUDGET_PASSIVE: on its callers' time) */
	SYS_CPU_SET_ONLINE,   /* x9 IRQ control, x0 cpu, x1 1 on / 0 off -> x0 1 on line,
			       * 0 off, 2 on its way (hyp/hotplug.c) */
	SYS_COUNT
};

/* SYS_STATS_THREAD: every live thread has an index (0, 1, ... oldest
 * first) and four pages of figures, each x0 = its id. */
enum stats_page {
	STATS_SCHED,   /* x1, x2 name, x3 CPU ticks, x4 STATS_* flags and fields */
	STATS_IPC,     /* x1 messages sent, x2 guest exits, x3 interrupts in the guest */
	STATS_EXITS,   /* x1 aborts (MMIO), x2 HVC+SMC, x3 system registers, x4 WFI/WFE */
	STATS_EXITS2,  /* x1 other exits */
	STATS_PAGES
};
/* Page STATS_SCHED's x4. */
#define STATS_STATE(w) ((w) & 0xff)       /* enum thread_state */
#define STATS_CPU(w) ((w) >> 8 & 0xff)    /* its CPU (affinity) */
#define STATS_PRIO(w) ((w) >> 16 & 0xff)
#define STATS_RUNNING (1u << 24)          /* current on a CPU now */
#define STATS_VCPU (1u << 25)             /* bound to a VCPU: runs a guest */

/* SYS_AS_GUEST_FENCE's x0: what its guests forget on every CPU. */
#define GUEST_FENCE_TLB 1u    /* guest-virtual translations (riscv64: HFENCE.VVMA) */
#define GUEST_FENCE_ICACHE 2u /* fetched instructions (FENCE.I) */

#define FAIR_WEIGHT_MAX 65535 /* SYS_THREAD_SET_WEIGHT */
#define AFFINITY_ANY (~0ull)  /* SYS_THREAD_SET_AFFINITY: no fixed CPU, balanced */
#define BUDGET_PERIOD_MIN_US 100ull       /* SYS_THREAD_SET_BUDGET's limits */
#define BUDGET_PASSIVE (~0ull)            /* its period for a passive thread (budget 0) */
#define BUDGET_PERIOD_MAX_US 10000000ull

/* --- Objects -------------------------------------------------------------- */
enum obj_type {
	OBJ_NULL = 0,
	OBJ_MEMORY,       /* quota of kernel memory; retype makes objects from it */
	OBJ_CNODE,        /* 2^size slots */
	OBJ_THREAD,
	OBJ_ASPACE,       /* address space; size AS_IO, AS_GUEST: below */
	OBJ_FRAME,        /* size 12 (4 KiB) or 21 (2 MiB) */
	OBJ_ENDPOINT,
	OBJ_NOTIFICATION,
	OBJ_IRQ_CONTROL,  /* authority to create IRQ handlers */
	OBJ_IRQ_HANDLER,
	OBJ_CONSOLE,
	OBJ_VCPU,         /* a virtual CPU: guest state a bound thread runs */
	OBJ_STREAM,       /* a device's DMA stream, bound to an I/O address space */
	OBJ_TYPES
};

/* Rights.  Endpoints: R receive, W send, G send capabilities.
 * Notifications: R wait, W signal.  Frames: R, W, X map permissions.
 * Thread, CNode, AddressSpace, Memory: W needed to change them. */
enum rights {
	R_READ = 1, R_WRITE = 2, R_EXEC = 4, R_GRANT = 8,
	R_ALL = 15
};

/* --- Messages ------------------------------------------------------------- */
#define MSG_WORDS 8   /* message registers */
#define MSG_CAPS 3    /* capabilities per message */

/* Message info word: label (bits 16-63), move flag (6), capability count
 * (4-5), length (0-3).  With the move flag the capabilities are moved, not
 * copied, and frames are unmapped from the sender first: page transfer. */
#define MSG_MOVE (1u << 6)
static inline uint64_t msginfo(uint64_t label, unsigned len, unsigned caps)
{
	return label << 16 | (uint64_t)caps << 4 | len;
}
/* The label a receive returns when the bound notification woke it; the
 * badge register then holds the notification's bits. */
#define MSG_LABEL_NOTIFY 0xffffffffffffull
static inline unsigned msginfo_len(uint64_t i) { return i & 15; }
static inline unsigned msginfo_caps(uint64_t i) { return (i >> 4) & 3; }
static inline uint64_t msginfo_label(uint64_t i) { return i >> 16; }

/* Fault messages, sent to a thread's fault endpoint as a call.  The label
 * says which; MR0 the address, MR1 the pc, MR2 the syndrome (ESR, scause..),
 * MR3 1 for a write.  Replying resumes the thread at MR1 of the reply if the
 * reply has length 2 and MR0 == 1, else at the faulting instruction
 * (a syscall fault resumes after it). */
enum fault_label {
	FAULT_PAGE = 1,     /* translation or permission fault */
	FAULT_UNDEFINED,    /* undefined or trapped instruction */
	FAULT_SYSCALL,      /* unknown system call number; MR0 = the number */
	FAULT_ALIGN,
};

/* Thread states reported by SYS_THREAD_READ_REGS. */
enum thread_state {
	TS_INACTIVE = 0, TS_RUNNABLE, TS_BLOCKED_SEND, TS_BLOCKED_RECV,
	TS_BLOCKED_REPLY, TS_BLOCKED_NOTIFY,
	TS_BLOCKED_WFI,   /* a VCPU's thread: waits for a virtual interrupt */
};

#define PRIO_LEVELS 256
#define CNODE_MAX_BITS 16
#define FRAME_BITS_4K 12
#define FRAME_BITS_2M 21

/* --- Root task --------------------------------------------------------- */
/* Well-known slots of the root task's CNode (radix 12, addressed by index). */
enum root_slot {
	ROOT_CNODE = 1, ROOT_ASPACE, ROOT_THREAD, ROOT_MEMORY, ROOT_IRQ_CONTROL,
	ROOT_CONSOLE, ROOT_BOOTINFO_FRAME, ROOT_FIRST_IMAGE_FRAME = 16,
};
#define ROOT_CNODE_BITS 16
#define PAGE_SIZE_U 4096ull          /* user-space page size */
#define ROOT_PRIO 100               /* MCP 255 */
#define ROOT_MCP 255
#define ROOT_BOOTINFO_VA 0x1000ull    /* the boot-info page */
#define ROOT_IMAGE_VA 0x200000ull     /* the root image, text first */
#define ROOT_STACK_TOP 0x80000000ull  /* stack pages end here */
#define USER_VA_BITS 40              /* address spaces (native and guest): [0, 2^40) */

#define BOOTINFO_MAGIC 0x4341524e424f4f54ull /* "CARNBOOT" */
/* MEM_RETYPE's size for an AddressSpace: 0 a native one; AS_IO a device's
 * (where the kernel drives an IOMMU); AS_GUEST a guest-physical one, in
 * the format its VCPUs' hardware walks (x86 VMX: EPT; elsewhere the
 * native one), where the port has VCPUs. */
#define AS_IO 1
#define AS_GUEST 2
#define BOOTINFO_DEVS 64
#define BOOTINFO_NODES 8
/* MEM_RETYPE's x4 for a Memory: 0 its parent's NUMA node, MEM_NODE(n) node n
 * (only from an untied parent or one on n); MEM_INFO's x2: MEM_NODE_ANY when
 * untied (objects come from the creating CPU's node first). */
#define MEM_NODE(n) ((uint64_t)(n) + 1)
#define MEM_NODE_ANY (~0ull)
struct bootinfo {
	uint64_t magic;
	uint64_t first_free_slot;   /* root CNode slots from here are empty */
	uint64_t image_frames;      /* frames from ROOT_FIRST_IMAGE_FRAME */
	uint64_t image_text_frames; /* the first ones are text+rodata (RX) */
	uint64_t stack_frames;      /* then stack frames */
	uint64_t ncpus;
	uint64_t dtb_vaddr, dtb_size; /* a read-only copy of the DTB */
	uint64_t initrd_pa, initrd_size;
	uint64_t initrd_first_slot;   /* its frames, in order, read-only... */
	uint64_t initrd_frames;       /* ...0 when absent or not page-aligned */
	uint64_t nmem;
	struct { uint64_t base, size; } mem[16]; /* RAM, host-physical */
	char bootargs[256];
	uint64_t console_irq;         /* the line console input raises (IRQ_GET it), or ~0 */
	uint64_t cnode_bits;          /* radix of this task's CNode (the root's: ROOT_CNODE_BITS) */
	uint64_t nnodes;              /* NUMA nodes, 1 without NUMA information */
	uint8_t mem_node[16];         /* the node of mem[i] */
	uint64_t node_cpus[BOOTINFO_NODES]; /* each node's CPUs: bit c, CPU c (as affinity names it) */
	uint64_t ndev;                /* device regions, as frames (read-write, uncached) */
	struct {
		uint64_t base, size;      /* host-physical, whole pages */
		uint64_t first_slot, frames; /* 2 MiB frames where aligned, else 4 KiB, in order */
	} dev[BOOTINFO_DEVS];
	uint64_t features;            /* BOOT_HAS_*: what this kernel offers beyond native threads */
	uint64_t prio;                /* this task's priority, which is also its MCP */
};
/* Soft timer lines: IRQ_GET them like any line, set their one-shot
 * deadline (system-counter ticks, counter_now()'s) with SYS_IRQ_SET_TIMER.
 * Each behaves as a level-triggered line (docs/ABI.md). */
#define IRQ_SOFT_TIMER 1088u
#define IRQ_SOFT_TIMERS 8u
#define SOFT_TIMER_OFF (~0ull)
/* struct bootinfo's features: what the kernel has on this machine, so that
 * tests (servers/root/check.h, ROOT_TEST_NEEDS) skip what a port lacks.
 * Bits 32 and up are the user-space ISA's (UARCH_HAS_*, arch/<arch>/user). */
#define BOOT_HAS_VCPU (1ull << 0)     /* VCPU objects: guests */
#define BOOT_HAS_IOMMU (1ull << 1)    /* I/O address spaces confine DMA */
#define BOOT_HAS_HOTPLUG (1ull << 2)  /* SYS_CPU_SET_ONLINE can stop a CPU */
#define UARCH_HAS_UTIMER (1ull << 32) /* a timer user space programs (uarch.h's UTIMER_IRQ) */
#define UARCH_IS_AARCH64 (1ull << 33) /* AArch64 encodings (PMU registers, load forms) */
#define UARCH_HAS_PRIV_LIST (1ull << 34) /* UARCH_PRIVILEGED_INSNS(), for tests_priv.c */
#define UARCH_HAS_VTIMER (1ull << 35) /* the kernel runs a timer for the test guest */
#define UARCH_IS_X86_64 (1ull << 36) /* x86 encodings (the test guest's ports, CPUID, MSRs) */
#define UARCH_HAS_GUEST_SMP (1ull << 37) /* the test guest starts a second VCPU (GT_SMP) */
#define UARCH_HAS_GUEST_SBI (1ull << 38) /* the test guest's SBI RFENCE and hart_stop (riscv64) */
_Static_assert(sizeof(struct bootinfo) <= 4096, "the boot info fits its page");
_Static_assert(__builtin_offsetof(struct bootinfo, bootargs) == 8 * 13 + 16 * 16,
	       "boot info layout");
