/* The host build: the generic register shape. */
#pragma once
#include "hyp/arch_regs_generic.h"
