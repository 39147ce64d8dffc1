/* No native threads on this port yet: the generic register shape. */
#pragma once
#include "hyp/arch_regs_generic.h"
