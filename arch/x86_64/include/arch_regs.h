/* No native threads on this port yet: the generic register shape. */
#pragma once
#define SYSCALL_INSN_BYTES 2 /* syscall */
#include "hyp/arch_regs_generic.h"
