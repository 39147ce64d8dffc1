/* Capabilities: slots in CNodes, the derivation tree, lookup.
 *
 * A slot is 64 bytes.  Its derivation-tree links make revoke possible: a
 * capability made from another (retype, copy, mint, grant) is its child, and
 * revoking a capability deletes its whole subtree. */
#pragma once
#include "hyp/obj.h"

struct aspace;

struct cap {
	struct obj *obj;        /* NULL: empty slot */
	union {
		struct aspace *map_as; /* Frame: the address space it is mapped in */
		/* A thread's CSpace root that is one CNode with no guard value
		 * (thread_cspace_set): 2^bits - 1, so that address a names slot
		 * a when a - 1 < cs_lim1 (the fast paths' lookup, fast_cap);
		 * else 0, which no address passes.  Deleting the capability
		 * clears it with the rest.  Beside obj: one load pair. */
		uint64_t cs_lim1;
	};
	union {
		uint64_t badge;   /* Endpoint, Notification */
		uint64_t guard;   /* CNode */
		uint64_t map_va;  /* Frame: where it is mapped, if map_as */
	};
	uint8_t type;           /* enum obj_type, OBJ_NULL when empty */
	uint8_t rights;         /* enum rights */
	uint8_t guard_bits;     /* CNode caps: guard length */
	uint8_t size_bits;      /* Frame caps: 12 or 21 */
	uint32_t unused;
	struct cap *parent, *first_child, *prev_sib, *next_sib;
};
_Static_assert(sizeof(struct cap) == 64, "slots are 64 bytes");
_Static_assert(__builtin_offsetof(struct cap, cs_lim1) == sizeof(void *), "obj's neighbour");

/* A CNode: 2^bits slots.  Slot 0 is never usable (capability address 0 is
 * the null capability), so the header lives there. */
struct cnode {
	struct obj o;
	uint8_t bits;
};
_Static_assert(sizeof(struct cnode) <= sizeof(struct cap), "header fits slot 0");

static inline struct cap *cnode_slots(struct cnode *cn) { return (struct cap *)cn; }
static inline bool cap_empty(const struct cap *c) { return c->type == OBJ_NULL; }

/* Resolve capability address `cptr` of `depth` bits (most significant first)
 * in the CSpace rooted at CNode capability `root`; O(levels).  Each CNode
 * consumes its capability's guard then its radix bits; resolution stops at
 * depth 0 or at a capability that is not a CNode.  May return an empty slot. */
err_t cspace_lookup(struct cap *root, cptr_t cptr, unsigned depth, struct cap **slot);
/* Lookup of a capability the caller wants to use: must be non-empty. */
static inline err_t cspace_lookup_cap(struct cap *root, cptr_t cptr, struct cap **slot)
{
	/* Most CSpaces are one CNode whose guard and radix take all 64 bits:
	 * resolved here without the general walk (same answer, fewer steps). */
	if (root->type == OBJ_CNODE) {
		struct cnode *cn = (struct cnode *)root->obj;
		uint64_t idx = cptr & ((1ull << cn->bits) - 1);
		struct cap *s = &cnode_slots(cn)[idx];
		if (root->guard_bits + cn->bits == 64 && cptr >> cn->bits == root->guard && idx &&
		    !cap_empty(s)) {
			*slot = s;
			return E_OK;
		}
	}
	err_t e = cspace_lookup(root, cptr, 64, slot);
	if (e == E_OK && cap_empty(*slot))
		return E_BADCAP;
	return e;
}

/* Where a frame capability is mapped, ~0 when it is not. */
static inline uint64_t cap_map_va(const struct cap *c) { return c->map_as ? c->map_va : ~0ull; }

/* Derivation tree and slot operations (cap/cdt.c).  None can fail. */
void cap_install(struct cap *dst, const struct cap *val, struct cap *parent);
void cap_move(struct cap *dst, struct cap *src);
void cap_delete(struct cap *c);
void cap_revoke(struct cap *c);
/* Whether some capability other than `c` is derived from it. */
static inline bool cap_has_children(const struct cap *c) { return c->first_child; }

struct memory;
err_t cnode_create(struct memory *payer, unsigned bits, struct cnode **out);
