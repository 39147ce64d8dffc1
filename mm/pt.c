#include "hyp/string.h"
#include "mm/pt.h"

static pte_t *table_va(const struct pt *pt, pte_t e)
{
	uint64_t pa = (e & pt->fmt->oa_mask) << pt->fmt->oa_shift;
	return (pte_t *)(uintptr_t)(pa + pt->dm_offset);
}

static unsigned index_at(const struct pt_format *f, uint64_t va, unsigned level)
{
	unsigned bits = 9 + (level == 0 ? f->root_extra_bits : 0);
	return (va >> pt_shift(f, level)) & ((1u << bits) - 1);
}

static pte_t leaf_pte(const struct pt_format *f, paddr_t pa, unsigned level,
		      unsigned attrs)
{
	pte_t e = ((pa.pa >> f->oa_shift) & f->oa_mask) |
		  (level == f->levels - 1u ? f->page : f->block);
	for (unsigned a = 0; a < PT_NATTR; a++)
		e |= (attrs & (1u << a)) ? f->attr_set[a] : f->attr_clear[a];
	return e;
}

err_t pt_init(struct pt *pt, const struct pt_format *fmt,
	      err_t (*alloc_table)(void *, paddr_t *), void *ctx, uint64_t dm_offset)
{
	*pt = (struct pt){ fmt, NULL, { 0 }, alloc_table, ctx, dm_offset };
	err_t e = alloc_table(ctx, &pt->root_pa);
	if (e)
		return e;
	pt->root = (pte_t *)(uintptr_t)(pt->root_pa.pa + dm_offset);
	return E_OK;
}

/* The table one level below entry *e, creating it if the entry is empty. */
static err_t descend(struct pt *pt, pte_t *e, pte_t **next)
{
	const struct pt_format *f = pt->fmt;
	if (!(*e & f->valid)) {
		paddr_t pa;
		err_t err = pt->alloc_table(pt->ctx, &pa);
		if (err)
			return err;
		*e = ((pa.pa >> f->oa_shift) & f->oa_mask) | f->table;
	} else if ((*e & f->table_mask) != f->table) {
		return E_OVERLAP; /* a leaf is in the way */
	}
	*next = table_va(pt, *e);
	return E_OK;
}

err_t pt_map(struct pt *pt, uint64_t va, paddr_t pa, uint64_t size, unsigned attrs)
{
	const struct pt_format *f = pt->fmt;
	if (!IS_ALIGNED(va | pa.pa | size, PAGE_SIZE))
		return E_INVAL;
	while (size) {
		pte_t *t = pt->root;
		unsigned level = 0;
		for (;; level++) {
			uint64_t bsize = 1ull << pt_shift(f, level);
			bool leaf_ok = level == f->levels - 1u ||
				(level >= f->block_min_level &&
				 IS_ALIGNED(va | pa.pa, bsize) && size >= bsize);
			pte_t *e = &t[index_at(f, va, level)];
			if (leaf_ok) {
				if (*e & f->valid)
					return E_OVERLAP;
				*e = leaf_pte(f, pa, level, attrs);
				va += bsize, pa.pa += bsize, size -= bsize;
				break;
			}
			err_t err = descend(pt, e, &t);
			if (err)
				return err;
		}
	}
	return E_OK;
}

bool pt_lookup(const struct pt *pt, uint64_t va, paddr_t *pa, pte_t *leaf)
{
	const struct pt_format *f = pt->fmt;
	const pte_t *t = pt->root;
	for (unsigned level = 0; level < f->levels; level++) {
		pte_t e = t[index_at(f, va, level)];
		if (!(e & f->valid))
			return false;
		bool table = level < f->levels - 1u && (e & f->table_mask) == f->table;
		if (!table) {
			uint64_t off = va & ((1ull << pt_shift(f, level)) - 1);
			*pa = pa_make(((e & f->oa_mask) << f->oa_shift) + off);
			*leaf = e;
			return true;
		}
		t = table_va(pt, e);
	}
	return false;
}

pte_t *pt_leaf(const struct pt *pt, uint64_t va, unsigned *level)
{
	const struct pt_format *f = pt->fmt;
	pte_t *t = pt->root;
	for (unsigned l = 0; l < f->levels; l++) {
		pte_t *e = &t[index_at(f, va, l)];
		if (!(*e & f->valid))
			return NULL;
		if (l == f->levels - 1u || (*e & f->table_mask) != f->table) {
			*level = l;
			return e;
		}
		t = table_va(pt, *e);
	}
	return NULL;
}

void pt_set_attrs(const struct pt *pt, pte_t *leaf, unsigned level, unsigned attrs)
{
	const struct pt_format *f = pt->fmt;
	paddr_t pa = pa_make((*leaf & f->oa_mask) << f->oa_shift);
	*leaf = leaf_pte(f, pa, level, attrs);
}

static bool table_empty(const struct pt *pt, const pte_t *t, unsigned level)
{
	unsigned n = 1u << (9 + (level == 0 ? pt->fmt->root_extra_bits : 0));
	for (unsigned i = 0; i < n; i++)
		if (t[i] & pt->fmt->valid)
			return false;
	return true;
}

unsigned pt_unmap(struct pt *pt, uint64_t va, paddr_t empty[PT_MAX_LEVELS])
{
	const struct pt_format *f = pt->fmt;
	pte_t *path[PT_MAX_LEVELS]; /* the entry used at each level */
	pte_t *t = pt->root;
	unsigned l = 0, n = 0;
	for (;; l++) {
		path[l] = &t[index_at(f, va, l)];
		if (!(*path[l] & f->valid))
			return 0;
		if (l == f->levels - 1u || (*path[l] & f->table_mask) != f->table)
			break;
		t = table_va(pt, *path[l]);
	}
	*path[l] = 0;
	for (; l > 0 && table_empty(pt, t, l); l--) {
		empty[n++] = pa_make((*path[l - 1] & f->oa_mask) << f->oa_shift);
		*path[l - 1] = 0;
		t = (pte_t *)((uintptr_t)path[l - 1] & ~(uintptr_t)(PAGE_SIZE - 1));
	}
	return n;
}

static void free_level(struct pt *pt, pte_t *t, unsigned level,
		       void (*free_table)(void *, paddr_t))
{
	const struct pt_format *f = pt->fmt;
	unsigned n = 1u << (9 + (level == 0 ? f->root_extra_bits : 0));
	for (unsigned i = 0; i < n && level < f->levels - 1u; i++) {
		pte_t e = t[i];
		if ((e & f->valid) && (e & f->table_mask) == f->table) {
			free_level(pt, table_va(pt, e), level + 1, free_table);
			free_table(pt->ctx, pa_make((e & f->oa_mask) << f->oa_shift));
		}
	}
}

void pt_free_tables(struct pt *pt, void (*free_table)(void *ctx, paddr_t pa))
{
	free_level(pt, pt->root, 0, free_table);
}
