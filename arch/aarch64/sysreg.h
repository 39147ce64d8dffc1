#pragma once
#include <stdint.h>

#define read_sysreg(r) ({                                        \
	uint64_t __v;                                            \
	__asm__ volatile("mrs %0, " #r : "=r"(__v));             \
	__v;                                                     \
})
#define write_sysreg(r, v) \
	__asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)) : "memory")

#define isb() __asm__ volatile("isb" : : : "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt : : : "memory")

/* GICv3 CPU interface registers by encoding (older assemblers lack names). */
#define ICC_SRE_EL2 S3_4_C12_C9_5
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_DIR_EL1 S3_0_C12_C11_1
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_BPR1_EL1 S3_0_C12_C12_3
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

/* Hypervisor physical timer. */
#define CNTHP_CTL_EL2 S3_4_C14_C2_1
#define CNTHP_CVAL_EL2 S3_4_C14_C2_2

#define HCR_EL2_RW (1ull << 31)
#define HCR_EL2_AMO (1ull << 5)
#define HCR_EL2_IMO (1ull << 4)
#define HCR_EL2_FMO (1ull << 3)
#define HCR_EL2_VM (1ull << 0)
#define HCR_EL2_DC (1ull << 12)
#define HCR_EL2_TGE (1ull << 27)
#define ICC_SGI1R_EL1 S3_0_C12_C11_5

#define SCTLR_EL2_RES1 0x30c50830ull
#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_SA (1ull << 3)
#define SCTLR_I (1ull << 12)
#define SCTLR_WXN (1ull << 19)
