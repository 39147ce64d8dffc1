/* Boot modules (bootmod.h): the initrd's frames mapped read-only, and a
 * module found by name, its extent checked against the initrd's. */
#include "servers/lib/bootmod.h"
#include "servers/lib/ulib.h"

extern const struct bootinfo *bootinfo;

const struct bootmod_header *bootmod_map(uint64_t va)
{
	for (uint64_t i = 0; i < bootinfo->initrd_frames; i++)
		if (INV3(SYS_AS_MAP, ROOT_ASPACE, bootinfo->initrd_first_slot + i, va + i * PAGE_SIZE_U,
			 R_READ))
			return NULL;
	const struct bootmod_header *h = (const void *)va;
	return bootinfo->initrd_frames && h->magic == BOOTMOD_MAGIC ? h : NULL;
}

const struct bootmod *bootmod_find(const struct bootmod_header *h, const char *name)
{
	for (unsigned i = 0; i < h->count && i < BOOTMOD_MAX; i++)
		if (!strncmp(h->mod[i].name, name, sizeof(h->mod[i].name)) &&
		    h->mod[i].offset <= bootinfo->initrd_size &&
		    h->mod[i].size <= bootinfo->initrd_size - h->mod[i].offset)
			return &h->mod[i];
	return NULL;
}
