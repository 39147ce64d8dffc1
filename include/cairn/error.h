/* Error codes: the one enum shared by the kernel (err_t) and user space.
 * A system call returns 0 or one of these; docs/ABI.md says which call
 * returns which. */
#pragma once

typedef enum {
	E_OK = 0,
	E_NOMEM,      /* no memory: a Memory quota or the allocator is exhausted */
	E_INVAL,      /* malformed argument (bad type, size, flag, index) */
	E_RANGE,      /* address or size out of range */
	E_OVERLAP,    /* the address is already mapped / ranges overlap */
	E_NOENT,      /* required entry absent (nothing mapped there, no caller) */
	E_BADFMT,     /* malformed input structure (DTB header, ...) */
	E_FULL,       /* a fixed-size table is full */
	E_BADCAP,     /* capability address does not resolve to a capability */
	E_BADTYPE,    /* the capability names an object of the wrong type */
	E_RIGHTS,     /* the capability lacks a right the operation needs */
	E_ALIGN,      /* address or size not aligned */
	E_SLOT,       /* destination slot is not empty */
	E_BUSY,       /* object already bound or in use */
	E_PRIO,       /* priority above the caller's maximum controlled priority */
	E_CANCELLED,  /* blocked operation cancelled (revoke, delete, suspend) */
	E_WOULDBLOCK, /* non-blocking operation found no partner */
	E_NOSYS,      /* unknown system call and no fault endpoint */
	E_COUNT
} err_t;
