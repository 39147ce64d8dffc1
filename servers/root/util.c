/* Root-task helpers: slot allocation and child tasks. */
#include "servers/root/root.h"

static uint64_t used[(1u << ROOT_CNODE_BITS) / 64];

/* Slots from first_free on are free, up to the CNode's size (a server
 * started by the root has a smaller CNode than the root's). */
void slots_init(uint64_t first_free)
{
	uint64_t bits = bootinfo->cnode_bits ? bootinfo->cnode_bits : ROOT_CNODE_BITS;
	for (uint64_t i = bits < ROOT_CNODE_BITS ? 1ull << bits : sizeof(used) * 8;
	     i < sizeof(used) * 8; i++)
		used[i / 64] |= 1ull << (i % 64);
	for (uint64_t i = 0; i < first_free; i++)
		used[i / 64] |= 1ull << (i % 64);
}

static unsigned hint; /* no free slot below word `hint` */

cptr_t slot_alloc(void)
{
	for (unsigned w = hint; w < sizeof(used) / 8; w++)
		if (~used[w]) {
			unsigned b = __builtin_ctzll(~used[w]);
			used[w] |= 1ull << b;
			hint = w;
			return w * 64 + b;
		}
	return 0;
}

cptr_t slot_alloc_range(unsigned n)
{
	unsigned run = 0;
	for (cptr_t s = (cptr_t)hint * 64; s < sizeof(used) * 8 && n; s++) {
		run = used[s / 64] >> (s % 64) & 1 ? 0 : run + 1;
		if (run == n) {
			cptr_t first = s + 1 - n;
			for (cptr_t k = first; k <= s; k++)
				used[k / 64] |= 1ull << (k % 64);
			return first;
		}
	}
	return 0;
}

void slot_free(cptr_t s)
{
	INV1(SYS_CNODE_DELETE, ROOT_CNODE, s);
	used[s / 64] &= ~(1ull << (s % 64));
	if (s / 64 < hint)
		hint = s / 64;
}

uint64_t bootarg_u64(const char *key, uint64_t dflt)
{
	const char *a = strstr(bootinfo->bootargs, key);
	if (!a)
		return dflt;
	uint64_t v = 0;
	for (a += strlen(key); *a >= '0' && *a <= '9'; a++)
		v = v * 10 + (uint64_t)(*a - '0');
	return v;
}

cptr_t new_obj(enum obj_type type, uint64_t size)
{
	cptr_t s = slot_alloc();
	if (s && retype(ROOT_MEMORY, type, size, ROOT_CNODE, s) == E_OK)
		return s;
	if (s)
		slot_free(s);
	return 0;
}

bool sleep_ms(cptr_t irq, cptr_t n, uint64_t ms)
{
	utimer_arm(irq, counter_now() + counter_freq() * ms / 1000);
	struct sysregs r = { .nr = SYS_WAIT, .cap = n };
	err_t e = sys(&r);
	utimer_off(irq);
	return !e && !INV0(SYS_IRQ_ACK, irq);
}

bool timer_take(cptr_t *n, cptr_t *irq)
{
	*n = new_obj(OBJ_NOTIFICATION, 0), *irq = slot_alloc();
	return *n && *irq && !INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UTIMER_IRQ, ROOT_CNODE, *irq) &&
	       !INV2(SYS_IRQ_SET_NOTIFICATION, *irq, *n, 1);
}

#define ROOT_PAGES_VA 0x10000000ull
static uint64_t next_page_va = ROOT_PAGES_VA;

void *new_page(cptr_t *frame)
{
	*frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	uint64_t va = next_page_va;
	if (!*frame || INV3(SYS_AS_MAP, ROOT_ASPACE, *frame, va, R_READ | R_WRITE))
		return NULL;
	next_page_va += PAGE_SIZE_U;
	return (void *)va;
}

err_t child_give(struct child *c, uint64_t idx, cptr_t src, unsigned rights)
{
	return INV4(SYS_CNODE_COPY, c->cnode, idx, ROOT_CNODE, src, rights);
}

err_t child_map(struct child *c, cptr_t frame, uint64_t va, unsigned rights, cptr_t *copy)
{
	cptr_t s = slot_alloc();
	err_t e = INV4(SYS_CNODE_COPY, ROOT_CNODE, s, ROOT_CNODE, frame, R_ALL);
	if (!e)
		e = INV3(SYS_AS_MAP, c->as, s, va, rights);
	*copy = s;
	return e;
}

err_t child_create(struct child *c, void (*fn)(uint64_t), uint64_t arg, unsigned prio)
{
	err_t e;
	*c = (struct child){ 0 };
	c->cnode = new_obj(OBJ_CNODE, 4);
	c->as = new_obj(OBJ_ASPACE, 0);
	c->thread = new_obj(OBJ_THREAD, 0);
	c->stack = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	c->cspace = slot_alloc();
	if (!c->cnode || !c->as || !c->thread || !c->stack)
		return E_NOMEM;
	if ((e = inv(SYS_CNODE_MINT, ROOT_CNODE, c->cspace, ROOT_CNODE, c->cnode, R_ALL,
		     0, 60, 0)))
		return e;
	extern const char __code_end[], __child_code_end[]; /* root.ld */
	const char *end = (const char *)fn < __child_code_end ? __child_code_end : __code_end;
	uint64_t pages = ((uint64_t)end - ROOT_IMAGE_VA + PAGE_SIZE_U - 1) / PAGE_SIZE_U;
	/* all of it or nothing: a child given part of the rodata faults where
	 * the code grew past CHILD_TEXT_PAGES (x86_64's fuzzer did, at 0x243000) */
	if (pages > CHILD_TEXT_PAGES || pages > bootinfo->image_text_frames)
		return E_RANGE;
	for (unsigned i = 0; i < pages; i++) {
		c->text[i] = slot_alloc();
		if ((e = INV4(SYS_CNODE_COPY, ROOT_CNODE, c->text[i], ROOT_CNODE,
			      ROOT_FIRST_IMAGE_FRAME + i, R_READ | R_EXEC)) ||
		    (e = INV3(SYS_AS_MAP, c->as, c->text[i], ROOT_IMAGE_VA + i * PAGE_SIZE_U,
			      R_READ | R_EXEC)))
			return e;
		c->ntext++;
	}
	if ((e = retype(ROOT_MEMORY, OBJ_NOTIFICATION, 0, c->cnode, CHILD_PARK)) ||
	    (e = INV3(SYS_AS_MAP, c->as, c->stack, CHILD_STACK_TOP - PAGE_SIZE_U,
		      R_READ | R_WRITE)) ||
	    (e = INV3(SYS_THREAD_CONFIGURE, c->thread, c->cspace, c->as, 0)) ||
	    (e = INV4(SYS_THREAD_WRITE_REGS, c->thread, (uint64_t)fn, CHILD_STACK_TOP, arg, 0)))
		return e;
	return INV2(SYS_THREAD_SET_PRIORITY, c->thread, prio, prio);
}

err_t child_start(struct child *c) { return INV0(SYS_THREAD_RESUME, c->thread); }

void child_destroy(struct child *c)
{
	cptr_t all[] = { c->thread, c->stack, c->as, c->cspace, c->cnode };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			slot_free(all[i]);
	for (unsigned i = 0; i < c->ntext; i++)
		slot_free(c->text[i]);
}

/* The device frame (bootinfo dev[]) covering physical address pa, and pa's
 * offset within it; 0 if none. */
cptr_t device_frame(uint64_t pa, uint64_t *off)
{
	for (uint64_t i = 0; i < bootinfo->ndev; i++) {
		uint64_t at = bootinfo->dev[i].base;
		if (pa < at || pa >= at + bootinfo->dev[i].size)
			continue;
		for (uint64_t k = 0; k < bootinfo->dev[i].frames; k++) {
			uint64_t s[5];
			cptr_t f = bootinfo->dev[i].first_slot + k;
			if (inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, s))
				return 0;
			uint64_t size = s[0]; /* bytes */
			if (pa < at + size) {
				*off = pa - at;
				return f;
			}
			at += size;
		}
	}
	return 0;
}

err_t thread_name(cptr_t thread, const char *name)
{
	uint64_t w[2] = { 0, 0 };
	memcpy(w, name, strnlen(name, sizeof(w)));
	return INV2(SYS_THREAD_SET_NAME, thread, w[0], w[1]);
}
