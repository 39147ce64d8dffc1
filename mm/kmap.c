#include "hyp/console.h"
#include "hyp/dtb.h"
#include "hyp/spinlock.h"
#include "hyp/string.h"
#include "mm/buddy.h"
#include "mm/kmap.h"

/* Where the image is linked and where it lies. */
struct kimage {
	uint64_t text, text_end, rodata, rodata_end, data, end; /* VAs */
	paddr_t pa;                                           /* of `text` */
};

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], _end[];

static struct pt kernel_pt;
static spinlock_t kernel_pt_lock = SPINLOCK_INIT;

static err_t alloc_table(void *ctx, paddr_t *pa)
{
	struct buddy *b = ctx;
	err_t e = buddy_alloc(b, 0, pa);
	if (e == E_OK)
		memset(buddy_va(b, *pa), 0, PAGE_SIZE);
	return e;
}

static err_t map_device(paddr_t base, uint64_t size);

/* Physical [lo, hi) at its direct-map address, whole pages only: firmware
 * memory maps need not be page-aligned (x86's 0x9fc00). */
static err_t map_phys(uint64_t lo, uint64_t hi, unsigned attrs)
{
	lo = ALIGN_UP(lo, PAGE_SIZE);
	hi = ALIGN_DOWN(hi, PAGE_SIZE);
	return lo < hi ? pt_map(&kernel_pt, lo + kernel_pt.dm_offset, pa_make(lo),
				hi - lo, attrs) : E_OK;
}

/* Virtual [lo, hi) of the image. */
static err_t map_image(const struct kimage *img, uint64_t lo, uint64_t hi,
		       unsigned attrs)
{
	paddr_t pa = pa_add(img->pa, lo - img->text);
	return lo < hi ? pt_map(&kernel_pt, lo, pa, hi - lo, attrs) : E_OK;
}

static err_t map_ram(const struct boot_info *bi, const struct kimage *img)
{
	/* Identity-mapped kernels sit inside the direct map: leave a hole
	 * there for the image's own section permissions. */
	bool inside = img->text == pa_addr(img->pa) + kernel_pt.dm_offset;
	uint64_t ks = pa_addr(img->pa), ke = ks + (img->end - img->text);
	err_t e;
	for (unsigned i = 0; i < bi->nmem; i++) {
		uint64_t lo = bi->mem[i].base.pa, hi = range_end(bi->mem[i]);
		bool hole = inside && lo <= ks && ke <= hi;
		if ((e = map_phys(lo, hole ? ks : hi, PT_W)) ||
		    (hole && (e = map_phys(ke, hi, PT_W))))
			return e;
	}
	return E_OK;
}

err_t kmap_init(const struct pt_format *fmt, const struct boot_info *bi,
		struct buddy *pages, uint64_t image_offset)
{
	const struct kimage image = {
		(uintptr_t)__text_start, (uintptr_t)__text_end,
		(uintptr_t)__rodata_start, (uintptr_t)__rodata_end,
		(uintptr_t)__data_start, (uintptr_t)_end,
		pa_make((uintptr_t)__text_start - image_offset),
	};
	const struct kimage *img = &image;
	err_t e = pt_init(&kernel_pt, fmt, alloc_table, pages, pages->dm_offset);
	if (e || (e = map_ram(bi, img)) ||
	    (e = map_image(img, img->text, img->text_end, PT_X)) ||
	    (e = map_image(img, img->rodata, img->rodata_end, 0)) ||
	    (e = map_image(img, img->data, img->end, PT_W)))
		return e;
	struct mem_range con = console_region();
	return map_device(con.base, con.size); /* no lock: one CPU, maybe no MMU */
}

static err_t map_device(paddr_t base, uint64_t size)
{
	uint64_t lo = ALIGN_DOWN(base.pa, PAGE_SIZE);
	uint64_t hi = ALIGN_UP(base.pa + size, PAGE_SIZE);
	err_t e = E_OK;
	for (uint64_t p = lo; p < hi && e == E_OK; p += PAGE_SIZE) {
		paddr_t pa;
		pte_t leaf;
		if (!pt_lookup(&kernel_pt, p + kernel_pt.dm_offset, &pa, &leaf))
			e = map_phys(p, p + PAGE_SIZE, PT_W | PT_DEVICE);
	}
	return e;
}

err_t kmap_device(paddr_t base, uint64_t size)
{
	spin_lock(&kernel_pt_lock);
	err_t e = map_device(base, size);
	spin_unlock(&kernel_pt_lock);
	return e;
}

paddr_t kmap_root(void) { return kernel_pt.root_pa; }
