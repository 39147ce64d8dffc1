/* Boot modules: how the root task is handed guest images.  The initrd the
 * boot loader gives the kernel (QEMU -initrd) is a bundle made by
 * tools/mkbootmod.py: this header on its first page, then each module on
 * page boundaries.  A plain convention between the bundle's maker and the
 * root task; the kernel never looks inside. */
#pragma once
#include <stdint.h>

#define BOOTMOD_MAGIC 0x444f4d4e52494143ull /* "CAIRNMOD" */
#define BOOTMOD_MAX 31

struct bootmod_header {
	uint64_t magic;
	uint64_t count;
	struct bootmod {
		char name[48];
		uint64_t offset, size;  /* from the bundle's start */
	} mod[BOOTMOD_MAX];
};
_Static_assert(sizeof(struct bootmod_header) <= 4096, "the header fits a page");

/* Map the bundle read-only at va (the caller's address space); NULL when
 * there is none.  Once per task. */
const struct bootmod_header *bootmod_map(uint64_t va);
/* Module `name`, or NULL. */
const struct bootmod *bootmod_find(const struct bootmod_header *h, const char *name);
