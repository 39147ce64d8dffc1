/* The framebuffer console (hyp/fbcon.c) on a framebuffer in host memory:
 * what boot firmware hands over is refused when it is not sound, and text
 * is drawn in the build's font, wrapped and scrolled. */
#include <string.h>

#include "host.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "fbcon_font.h"

#define W 24 /* pixels: 3 characters by 3 lines, and 8 pixels of padding */
#define H 48
#define PITCH_PX 32
#define FB_PA 0xc0000000ull
#define PAD 0x12345678u
#define GREY 0xaaaaaau

static uint32_t screen[PITCH_PX * H];
static char said[256];

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(said, sizeof(said), fmt, ap);
	va_end(ap);
}

void *arch_map_device(paddr_t base, uint64_t size)
{
	assert_int_equal(base.pa, FB_PA);
	assert_int_equal(size, PITCH_PX * 4 * H);
	return screen;
}

static struct fb_info good(void)
{
	return (struct fb_info){ .base = { FB_PA }, .pitch = PITCH_PX * 4, .width = W, .height = H,
				 .bpp = 32, .pos = { 16, 8, 0 }, .size = { 8, 8, 8 } };
}

static struct boot_info ram;

static void refused(struct fb_info fb, const char *why)
{
	said[0] = 0;
	memset(screen, 0x55, sizeof(screen));
	fbcon_init(&fb, &ram, screen);
	assert_non_null(strstr(said, "refused"));
	assert_non_null(strstr(said, why));
	fbcon_putc('A');
	assert_int_equal(screen[0], 0x55555555u); /* nothing drawn */
}

static void test_refused(void **state)
{
	ram.nmem = 1;
	ram.mem[0] = (struct mem_range){ { 0x100000 }, 512 * MiB };
	struct fb_info fb = good();
	fb.pitch = W * 4 - 4;
	refused(fb, "pitch smaller than a line");
	fb = good();
	fb.bpp = 24;
	refused(fb, "not 32 bits");
	fb = good();
	fb.base.pa = 256 * MiB; /* in RAM */
	refused(fb, "overlaps RAM");
	fb = good();
	fb.base.pa = ~0ull - 4096;
	refused(fb, "past the end");
	fb = good();
	fb.height = 8;
	refused(fb, "smaller than one character");
}

/* Character cell (col, row) shows c, grey on black. */
static void assert_cell(unsigned col, unsigned row, char c)
{
	for (unsigned y = 0; y < FONT_H; y++)
		for (unsigned x = 0; x < FONT_W; x++) {
			uint32_t px = screen[(row * FONT_H + y) * PITCH_PX + col * FONT_W + x];
			assert_int_equal(px, font[(int)c][y] >> (FONT_W - 1 - x) & 1 ? GREY : 0);
		}
}

static void test_draws_wraps_scrolls(void **state)
{
	struct fb_info fb = good();
	for (unsigned i = 0; i < PITCH_PX * H; i++)
		screen[i] = i % PITCH_PX >= W ? PAD : 0x55555555u;
	fbcon_init(&fb, &ram, screen);
	assert_non_null(strstr(said, "24x48x32 framebuffer at 0xc0000000 mirrors the console"));
	fbcon_map();
	const char *text = "AB\r\nCDEF\r\nG\tH";
	for (const char *s = text; *s; s++)
		fbcon_putc(*s);
	/* AB / CDE / F (wrapped) / G, its tab past the last column / H
	 * (wrapped): five lines on three, so the screen scrolled twice. */
	assert_cell(0, 0, 'F');
	assert_cell(1, 0, ' ');
	assert_cell(0, 1, 'G');
	assert_cell(1, 1, ' ');
	assert_cell(0, 2, 'H');
	assert_cell(2, 2, ' ');
	for (unsigned i = 0; i < PITCH_PX * H; i++)
		if (i % PITCH_PX >= W)
			assert_int_equal(screen[i], PAD); /* the padding is not drawn on */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_draws_wraps_scrolls),
	};
	return RUN_TESTS("fbcon", tests);
}
