#pragma once
#include "hyp/types.h"

struct boot_info;

/* A linear direct-colour framebuffer that boot firmware set up (x86: the
 * GOP's, as the multiboot2 framebuffer tag). */
struct fb_info {
	paddr_t base;
	uint32_t pitch, width, height, bpp; /* pitch in bytes */
	uint8_t pos[3], size[3];            /* red, green, blue fields, in bits */
};

/* Mirror the console on fb (hyp/fbcon.c), through `early` (its address in
 * the boot page tables) until fbcon_map maps it into the kernel's tables,
 * before they are loaded; one that is not sound is refused with a message. */
void fbcon_init(const struct fb_info *fb, const struct boot_info *bi, void *early);
void fbcon_map(void);
void fbcon_putc(char c); /* every byte console_write writes */
/* The framebuffer the console draws on (size 0: none), never given away. */
struct mem_range fbcon_region(void);
