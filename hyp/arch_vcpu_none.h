/* struct arch_vcpu for a port without VCPUs yet (and the host tests): the
 * generic code compiles, hyp/vcpu_none.c refuses to make one. */
#pragma once
struct arch_vcpu { int none; };
#define HC_REG_FN 0
#define HC_REG_RESULT 0
#define HC_REG_CAP 1
#define HC_REG_INFO 2
#define HC_REG_MR0 3
#define HC_INSN_BYTES 4
#define ARCH_VIRQ_VTIMER 0
