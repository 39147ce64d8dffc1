/* No VCPUs on this port yet. */
#pragma once
#include "hyp/arch_vcpu_none.h"
