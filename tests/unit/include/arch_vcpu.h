/* The host build: no VCPUs. */
#pragma once
#include "hyp/arch_vcpu_none.h"
