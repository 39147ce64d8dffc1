/* A text console on the boot framebuffer, mirroring the serial console:
 * console_write hands every byte here too.  The font is a Debian PSF font
 * converted at build time (tools/psf2c.py), 32-bit pixels only, so drawing
 * is one store per pixel; scrolling moves the screen up a line. */
#include "hyp/arch.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "hyp/printk.h"
#include "fbcon_font.h" /* generated: FONT_W, FONT_H, font[128][FONT_H] */

static struct fb_info fb;
static volatile uint32_t *pixels; /* NULL: no framebuffer console */
static unsigned cols, rows, col, row;
static uint32_t fg;

static const char *unsound(const struct fb_info *f, const struct boot_info *bi)
{
	uint64_t size = (uint64_t)f->pitch * f->height;
	if (f->bpp != 32)
		return "not 32 bits per pixel";
	if (f->width < FONT_W || f->height < FONT_H)
		return "smaller than one character";
	if (f->pitch % 4 || f->pitch / 4 < f->width)
		return "pitch smaller than a line of pixels";
	if (f->base.pa + size < f->base.pa)
		return "past the end of the address space";
	for (unsigned i = 0; i < 3; i++)
		if (f->size[i] > 8 || f->pos[i] + f->size[i] > 32)
			return "colour fields outside the pixel";
	for (unsigned i = 0; i < bi->nmem; i++)
		if (f->base.pa < range_end(bi->mem[i]) && bi->mem[i].base.pa < f->base.pa + size)
			return "overlaps RAM in the memory map";
	return NULL;
}

/* Every line of pixels from y on, blanked. */
static void clear_from(unsigned y)
{
	for (; y < fb.height; y++)
		for (unsigned x = 0; x < fb.width; x++)
			pixels[y * (fb.pitch / 4) + x] = 0;
}

void fbcon_init(const struct fb_info *f, const struct boot_info *bi, void *early)
{
	const char *why = unsound(f, bi);
	if (why) {
		printk("fbcon: framebuffer at 0x%lx (%ux%ux%u, pitch %u) refused: %s\n",
		       f->base.pa, f->width, f->height, f->bpp, f->pitch, why);
		return;
	}
	fb = *f;
	for (unsigned i = 0; i < 3; i++) /* VGA's light grey on black */
		fg |= (0xaau >> (8 - fb.size[i])) << fb.pos[i];
	cols = fb.width / FONT_W;
	rows = fb.height / FONT_H;
	pixels = early;
	clear_from(0);
	printk("fbcon: %ux%ux%u framebuffer at 0x%lx mirrors the console (%ux%u characters)\n",
	       fb.width, fb.height, fb.bpp, fb.base.pa, cols, rows);
}

void fbcon_map(void)
{
	if (pixels && !(pixels = arch_map_device(fb.base, (uint64_t)fb.pitch * fb.height)))
		printk("fbcon: no memory to map the framebuffer: serial console only\n");
}

struct mem_range fbcon_region(void)
{
	return (struct mem_range){ fb.base, pixels ? (uint64_t)fb.pitch * fb.height : 0 };
}

static void draw(unsigned char c)
{
	const uint8_t *glyph = font[c < 128 ? c : '?'];
	volatile uint32_t *p = pixels + row * FONT_H * (fb.pitch / 4) + col * FONT_W;
	for (unsigned y = 0; y < FONT_H; y++, p += fb.pitch / 4)
		for (unsigned x = 0; x < FONT_W; x++)
			p[x] = glyph[y] >> (FONT_W - 1 - x) & 1 ? fg : 0;
}

static void newline(void)
{
	col = 0;
	if (++row < rows)
		return;
	row = rows - 1;
	uint64_t line = (uint64_t)FONT_H * fb.pitch / 4;
	for (uint64_t i = 0; i < row * line; i++)
		pixels[i] = pixels[i + line];
	clear_from(row * FONT_H);
}

void fbcon_putc(char c)
{
	if (!pixels)
		return;
	if (c == '\n')
		newline();
	else if (c == '\r')
		col = 0;
	else if (c == '\t')
		col = (col + 8) & ~7u;
	else {
		if (col >= cols)
			newline();
		draw((unsigned char)c);
		col++;
	}
}
