/* Start a server from an ELF image: its own address space, CNode (radix
 * SERVER_CNODE_BITS, addressed by index like the root's) and Memory
 * quota, everything it owns paid from that quota.  It gets the root's slot
 * layout (include/cairn/abi.h, enum root_slot) and a boot info page of its
 * own, so that a server uses the same helpers as the root task. */
#include "servers/root/spawn.h"

struct elf_hdr { uint8_t ident[16]; uint16_t type, machine; uint32_t version;
		 uint64_t entry, phoff, shoff; uint32_t flags;
		 uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx; };
struct elf_phdr { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz,
		  memsz, align; };

#define SPAWN_VA 0x3800000000ull /* where the root fills a server's pages */

struct loading {
	struct server *s;
	uint64_t next;      /* the server's next free slot */
};

/* A page paid by the server, mapped at va in its space with `rights`, the
 * capability in its next slot; returns where the root sees it meanwhile. */
static void *page(struct loading *l, uint64_t va, unsigned rights, cptr_t *tmp, err_t *e)
{
	cptr_t f = slot_alloc(), c = slot_alloc();
	*tmp = f;
	if (!f || !c || (*e = retype(l->s->mem, OBJ_FRAME, FRAME_BITS_4K, ROOT_CNODE, f)) ||
	    (*e = INV4(SYS_CNODE_COPY, ROOT_CNODE, c, ROOT_CNODE, f, R_ALL)) ||
	    (*e = INV3(SYS_AS_MAP, l->s->as, c, va, rights)) ||
	    (*e = INV3(SYS_CNODE_MOVE, l->s->cnode, l->next, ROOT_CNODE, c)) ||
	    (*e = INV3(SYS_AS_MAP, ROOT_ASPACE, f, SPAWN_VA, R_READ | R_WRITE))) {
		if (!*e)
			*e = E_NOMEM;
		if (c)
			slot_free(c);
		return NULL;
	}
	slot_free(c); /* moved: the slot is empty, only the bit goes */
	l->next++;
	return (void *)SPAWN_VA;
}

/* The root's temporary view of a page goes; the server's mapping stays. */
static void page_done(cptr_t tmp) { slot_free(tmp); }

static err_t load_segments(struct loading *l, const char *image, uint64_t *entry,
			   struct bootinfo *bi)
{
	const struct elf_hdr *h = (const void *)image;
	if (memcmp(h->ident, "\177ELF", 4) || h->phentsize != sizeof(struct elf_phdr))
		return E_BADFMT;
	const struct elf_phdr *ph = (const void *)(image + h->phoff);
	bi->image_frames = 0;
	for (unsigned i = 0; i < h->phnum; i++) {
		if (ph[i].type != 1 /* PT_LOAD */)
			continue;
		unsigned rights = R_READ | (ph[i].flags & 2 ? R_WRITE : 0) |
				  (ph[i].flags & 1 ? R_EXEC : 0);
		for (uint64_t va = ph[i].vaddr & ~(PAGE_SIZE_U - 1); va < ph[i].vaddr + ph[i].memsz;
		     va += PAGE_SIZE_U) {
			cptr_t tmp;
			err_t e;
			char *p = page(l, va, rights, &tmp, &e);
			if (!p)
				return e;
			memset(p, 0, PAGE_SIZE_U);
			for (uint64_t b = 0; b < PAGE_SIZE_U; b++) {
				uint64_t off = va + b - ph[i].vaddr;
				if (va + b >= ph[i].vaddr && off < ph[i].filesz)
					p[b] = image[ph[i].offset + off];
			}
			page_done(tmp);
			bi->image_frames++;
		}
	}
	*entry = h->entry;
	return E_OK;
}

/* The server's well-known capabilities, as the kernel gives the root's,
 * less interrupt control: a server that takes interrupts is given it
 * (server_give), the rest cannot claim a line. */
static err_t give_authority(struct server *s)
{
	err_t e;
	if ((e = INV4(SYS_CNODE_COPY, s->cnode, ROOT_CNODE, ROOT_CNODE, s->cnode, R_ALL)) ||
	    (e = INV4(SYS_CNODE_COPY, s->cnode, ROOT_ASPACE, ROOT_CNODE, s->as, R_ALL)) ||
	    (e = INV4(SYS_CNODE_COPY, s->cnode, ROOT_THREAD, ROOT_CNODE, s->thread, R_ALL)) ||
	    (e = INV4(SYS_CNODE_COPY, s->cnode, ROOT_MEMORY, ROOT_CNODE, s->mem, R_ALL)))
		return e;
	return INV4(SYS_CNODE_COPY, s->cnode, ROOT_CONSOLE, ROOT_CNODE, ROOT_CONSOLE, R_ALL);
}

/* The boot modules (the initrd's frames), read-only, in the next slots. */
static err_t give_initrd(struct loading *l, struct bootinfo *bi)
{
	bi->initrd_first_slot = l->next;
	for (uint64_t i = 0; i < bootinfo->initrd_frames; i++) {
		err_t e = INV4(SYS_CNODE_COPY, l->s->cnode, l->next++, ROOT_CNODE,
			       bootinfo->initrd_first_slot + i, R_READ);
		if (e)
			return e;
	}
	return E_OK;
}

/* The device frames that lie wholly inside one of the ranges, in the next
 * slots (each run of them one dev[] entry), and a read-only copy of the DTB
 * that describes them. */
#define SERVER_DTB_VA 0x40000000ull

static bool in_ranges(uint64_t pa, uint64_t size, const struct pa_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pa >= r[i].base && size <= r[i].size && pa - r[i].base <= r[i].size - size)
			return true;
	return false;
}

static err_t give_devices(struct loading *l, struct bootinfo *bi, const struct pa_range *r,
			  unsigned nr)
{
	bi->ndev = 0;
	for (uint64_t i = 0; i < bootinfo->ndev; i++) {
		uint64_t pa = bootinfo->dev[i].base, info[5];
		bool open = false; /* a dev[] entry is being filled */
		for (uint64_t k = 0; k < bootinfo->dev[i].frames; k++, pa += info[0]) {
			cptr_t f = bootinfo->dev[i].first_slot + k;
			err_t e = inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, info);
			if (e)
				return e;
			if (!in_ranges(pa, info[0], r, nr)) {
				open = false;
				continue;
			}
			if (!open && bi->ndev == BOOTINFO_DEVS)
				return E_FULL;
			if (!open)
				bi->dev[bi->ndev++] = (typeof(bi->dev[0])){ .base = pa, .first_slot = l->next };
			open = true;
			bi->dev[bi->ndev - 1].size += info[0];
			bi->dev[bi->ndev - 1].frames++;
			if ((e = INV4(SYS_CNODE_COPY, l->s->cnode, l->next++, ROOT_CNODE, f,
				      R_READ | R_WRITE)))
				return e;
		}
	}
	if (!bi->ndev)
		return E_OK;
	for (uint64_t off = 0; off < bootinfo->dtb_size; off += PAGE_SIZE_U) {
		cptr_t tmp;
		err_t e;
		if (!page(l, SERVER_DTB_VA + off, R_READ, &tmp, &e))
			return e;
		uint64_t n = bootinfo->dtb_size - off < PAGE_SIZE_U ? bootinfo->dtb_size - off
								    : PAGE_SIZE_U;
		memcpy((void *)SPAWN_VA, (const char *)bootinfo->dtb_vaddr + off, n);
		page_done(tmp);
	}
	bi->dtb_vaddr = SERVER_DTB_VA;
	bi->dtb_size = bootinfo->dtb_size;
	return E_OK;
}

static err_t build(struct server *s, const char *image, struct bootinfo *bi, uint64_t *entry,
		   const struct pa_range *r, unsigned nr)
{
	struct loading l = { .s = s, .next = SERVER_FIRST_FRAME };
	cptr_t tmp;
	err_t e;
	if ((e = give_authority(s)) || (e = load_segments(&l, image, entry, bi)))
		return e;
	for (uint64_t i = 1; i <= SERVER_STACK_PAGES; i++) {
		if (!page(&l, ROOT_STACK_TOP - i * PAGE_SIZE_U, R_READ | R_WRITE, &tmp, &e))
			return e;
		memset((void *)SPAWN_VA, 0, PAGE_SIZE_U);
		page_done(tmp);
	}
	if ((e = give_initrd(&l, bi)) || (e = give_devices(&l, bi, r, nr)))
		return e;
	/* the boot info page last: it says where everything went */
	cptr_t bif = slot_alloc();
	if (!bif || (e = retype(s->mem, OBJ_FRAME, FRAME_BITS_4K, ROOT_CNODE, bif)) ||
	    (e = INV3(SYS_AS_MAP, s->as, bif, ROOT_BOOTINFO_VA, R_READ)) ||
	    (e = INV3(SYS_CNODE_MOVE, s->cnode, ROOT_BOOTINFO_FRAME, ROOT_CNODE, bif)))
		return e ? e : E_NOMEM;
	slot_free(bif);
	bi->stack_frames = SERVER_STACK_PAGES;
	bi->first_free_slot = l.next;
	return E_OK;
}

/* Fill the boot info frame through a second capability to it. */
static err_t write_bootinfo(struct server *s, const struct bootinfo *bi)
{
	cptr_t c = slot_alloc();
	err_t e;
	if (!c || (e = INV4(SYS_CNODE_COPY, ROOT_CNODE, c, s->cnode, ROOT_BOOTINFO_FRAME, R_ALL)) ||
	    (e = INV3(SYS_AS_MAP, ROOT_ASPACE, c, SPAWN_VA, R_READ | R_WRITE)))
		return c ? e : E_NOMEM;
	memcpy((void *)SPAWN_VA, bi, sizeof(*bi));
	slot_free(c);
	return E_OK;
}

err_t server_create_spec(struct server *s, const char *image, const struct server_spec *spec)
{
	static struct bootinfo bi; /* the root's, then what differs */
	uint64_t entry = 0;
	err_t e;
	*s = (struct server){ 0 };
	if (!(s->mem = new_obj(OBJ_MEMORY, spec->quota)) || !(s->cnode = slot_alloc()) ||
	    !(s->as = slot_alloc()) || !(s->thread = slot_alloc()) || !(s->cspace = slot_alloc()))
		return E_NOMEM;
	if ((e = retype(s->mem, OBJ_CNODE, SERVER_CNODE_BITS, ROOT_CNODE, s->cnode)) ||
	    (e = retype(s->mem, OBJ_ASPACE, 0, ROOT_CNODE, s->as)) ||
	    (e = retype(s->mem, OBJ_THREAD, 0, ROOT_CNODE, s->thread)) ||
	    (e = inv(SYS_CNODE_MINT, ROOT_CNODE, s->cspace, ROOT_CNODE, s->cnode, R_ALL, 0,
		     64 - SERVER_CNODE_BITS, 0)))
		return e;
	bi = *bootinfo;
	bi.cnode_bits = SERVER_CNODE_BITS;
	bi.prio = spec->prio;
	bi.dtb_vaddr = bi.dtb_size = bi.ndev = 0; /* the machine is the root's business */
	if (spec->args)
		snprintf(bi.bootargs, sizeof(bi.bootargs), "%s %s", spec->args, bootinfo->bootargs);
	if ((e = build(s, image, &bi, &entry, spec->devs, spec->ndevs)) || (e = write_bootinfo(s, &bi)) ||
	    (e = INV3(SYS_THREAD_CONFIGURE, s->thread, s->cspace, s->as, 0)) ||
	    (e = INV4(SYS_THREAD_WRITE_REGS, s->thread, entry, ROOT_STACK_TOP, ROOT_BOOTINFO_VA, 0)) ||
	    (e = INV2(SYS_THREAD_SET_PRIORITY, s->thread, spec->prio, spec->prio)) ||
	    (spec->cpu && (e = INV1(SYS_THREAD_SET_AFFINITY, s->thread, spec->cpu))))
		return e;
	return spec->name ? thread_name(s->thread, spec->name) : E_OK;
}

err_t server_create(struct server *s, const char *image, uint64_t quota, unsigned prio)
{
	return server_create_spec(s, image, &(struct server_spec){ .quota = quota, .prio = prio });
}

err_t server_give(struct server *s, uint64_t slot, cptr_t cap, unsigned rights)
{
	return INV4(SYS_CNODE_COPY, s->cnode, slot, ROOT_CNODE, cap, rights);
}

err_t server_start(struct server *s) { return INV0(SYS_THREAD_RESUME, s->thread); }

err_t server_spawn(struct server *s, const char *image, uint64_t quota, unsigned prio)
{
	err_t e = server_create(s, image, quota, prio);
	return e ? e : server_start(s);
}

void server_destroy(struct server *s)
{
	if (s->mem) /* everything it made goes with its memory */
		INV1(SYS_CNODE_REVOKE, ROOT_CNODE, s->mem);
	cptr_t all[] = { s->thread, s->as, s->cspace, s->cnode, s->mem };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			slot_free(all[i]);
	*s = (struct server){ 0 };
}
