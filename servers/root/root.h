/* The root task's shared helpers: slot allocation, child tasks, tests. */
#pragma once
#include "servers/lib/ring.h"
#include "servers/lib/ulib.h"

extern const struct bootinfo *bootinfo;

/* Slots of the root CNode. */
void slots_init(uint64_t first_free);
cptr_t slot_alloc(void);
void slot_free(cptr_t s);     /* deletes what is in it first */
cptr_t slot_alloc_range(unsigned n); /* n consecutive slots, the first (0: none) */
/* The decimal value after `key` (e.g. "stress.rounds=") in the bootargs. */
uint64_t bootarg_u64(const char *key, uint64_t dflt);
cptr_t new_obj(enum obj_type type, uint64_t size); /* 0 on failure */
/* This CPU's user timer (uarch.h) on a new notification *n, for sleep_ms. */
bool timer_take(cptr_t *n, cptr_t *irq);
/* Block for about `ms` milliseconds, woken by that timer: the CPU is left
 * to the others meanwhile. */
bool sleep_ms(cptr_t irq, cptr_t n, uint64_t ms);
/* Name a thread for the monitor and the debugger (16 bytes at most). */
err_t thread_name(cptr_t thread, const char *name);
/* A page of root memory mapped read-write into the root; returns its VA. */
void *new_page(cptr_t *frame);
/* The device frame (bootinfo dev[]) covering pa and pa's offset in it; 0: none. */
cptr_t device_frame(uint64_t pa, uint64_t *off);

/* A child task: its own CNode (16 slots, addressed by index), address
 * space and thread, the root's text mapped in, one stack page.  Child code
 * must use only registers, its stack and pages it is given. */
#define CHILD_SHARED_VA 0x30000000ull
#define CHILD_STACK_TOP 0x7f000000ull
#define CHILD_TEXT_PAGES 128 /* the root's code and rodata (its images come after) */
/* Child code that calls nothing outside CHILD_CODE (system calls are
 * inline): a child running it is given only the first pages of the root's
 * text, not all of it (the stress ring's 1,000 tasks would not fit the
 * root's CNode with a copy of every text page each). */
#define CHILD_CODE __attribute__((section(".text.child"), noinline))
struct child {
	cptr_t cnode, cspace, as, thread, stack, text[CHILD_TEXT_PAGES];
	unsigned ntext;
};
err_t child_create(struct child *c, void (*fn)(uint64_t), uint64_t arg, unsigned prio);
/* Copy root capability `src` into the child's slot `idx` with `rights`. */
err_t child_give(struct child *c, uint64_t idx, cptr_t src, unsigned rights);
/* Map root frame `frame` into the child at va. */
err_t child_map(struct child *c, cptr_t frame, uint64_t va, unsigned rights, cptr_t *copy);
err_t child_start(struct child *c);
/* Where a child's code ends: waits forever on its private notification
 * (slot CHILD_PARK), so it neither spins nor faults. */
#define CHILD_PARK 15
static inline _Noreturn void child_park(void)
{
	for (;;) {
		struct sysregs r = { .nr = SYS_WAIT, .cap = CHILD_PARK };
		sys(&r);
	}
}
void child_destroy(struct child *c);

void run_tests(void);
void run_bench(void);
void run_bench_smp(void); /* bench_smp.c: wall clock, several CPUs */
void run_disk_test(void);
bool bench_wanted(const char *name);
/* A call to a server on another CPU (bench.c): instructions, or wall time. */
void bench_cross_cpu(bool wall);
void run_bench_vm(void);
void bench_virq(unsigned cpu, bool wall); /* bench_vm.c */
void vm_claim_server(uint64_t arg); /* child: answers a guest's interrupt claims */
void bench_server(uint64_t arg);
void run_demo(void);
void run_stress(void);
void run_fuzz(void);
void run_fuzz_smp(void);
void run_vm_hostile(void);
void run_system(void);
