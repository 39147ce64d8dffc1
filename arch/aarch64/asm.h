#pragma once
/* PC-relative address of a symbol (+/- 4 GiB): valid before relocation. */
.macro adr_l reg, sym
	adrp \reg, \sym
	add \reg, \reg, :lo12:\sym
.endm
