/* PSCI 1.1 and the SMCCC version query, as the guest's firmware would
 * answer them (conduit HVC).  Anything else is NOT_SUPPORTED, as SMCCC
 * requires. */
#include "servers/vmm/vmm.h"

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND 0x84000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0x84000003u
#define PSCI_AFFINITY_INFO 0x84000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define SMC64 0x40000000u
#define SMCCC_VERSION 0x80000000u
#define NOT_SUPPORTED ((uint64_t)-1)
#define INVALID_PARAMETERS ((uint64_t)-2)
#define ALREADY_ON ((uint64_t)-4)
#define MIGRATE_NONE 2

static bool supported(uint64_t fn)
{
	switch (fn & ~(uint64_t)SMC64) {
	case PSCI_VERSION: case PSCI_CPU_OFF: case PSCI_CPU_ON: case PSCI_AFFINITY_INFO:
	case PSCI_MIGRATE_INFO_TYPE: case PSCI_SYSTEM_OFF: case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
		return true;
	default:
		return false;
	}
}

static uint64_t cpu_on(struct vmm *m, uint64_t target, uint64_t entry, uint64_t ctx)
{
	if (target >= m->nvcpus)
		return INVALID_PARAMETERS;
	if (m->running[target])
		return ALREADY_ON;
	return vmm_start_vcpu(m, (unsigned)target, entry, ctx, 0) ? INVALID_PARAMETERS : 0;
}

bool psci_call(struct vmm *m, unsigned vcpu, const uint64_t *x, uint64_t *res)
{
	uint64_t fn = x[0];
	res[0] = NOT_SUPPORTED;
	if (fn >> 32 || !supported(fn))
		return true; /* SMCCC_VERSION among them: the guest assumes 1.0 */
	switch (fn & ~(uint64_t)SMC64) {
	case PSCI_VERSION:
		res[0] = 0x10001;
		return true;
	case PSCI_FEATURES:
		res[0] = supported(x[1]) ? 0 : NOT_SUPPORTED;
		return true;
	case PSCI_MIGRATE_INFO_TYPE:
		res[0] = MIGRATE_NONE;
		return true;
	case PSCI_CPU_ON:
		res[0] = cpu_on(m, x[1], x[2], x[3]);
		return true;
	case PSCI_AFFINITY_INFO:
		res[0] = x[1] < m->nvcpus ? !m->running[x[1]] : INVALID_PARAMETERS;
		return true;
	case PSCI_CPU_OFF:
		INV0(SYS_THREAD_SUSPEND, m->vm.v[vcpu].thread);
		m->running[vcpu] = false;
		return false;
	case PSCI_SYSTEM_RESET:
		m->stopped = "reset";
		return false;
	default: /* SYSTEM_OFF */
		m->stopped = "powered off";
		return false;
	}
}
