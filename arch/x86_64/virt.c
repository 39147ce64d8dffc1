/* Which hardware virtualization this CPU offers: AMD SVM with nested
 * paging (NPT) or Intel VMX with EPT.  Cairn needs one with second-level
 * translation.  For VMX the check goes as far as VMXON and VMXOFF, so a
 * firmware lock or a bad fixed-bit setting shows up at boot. */
#include "arch/x86_64/hv.h"
#include "hyp/arch.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/string.h"

#define MSR_FEATURE_CONTROL 0x3a
#define FC_LOCK 1
#define FC_VMX_OUTSIDE_SMX 4
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VM_HSAVE_PA 0xc0010117
#define CR4_VMXE (1ull << 13)

enum virt { VIRT_NONE, VIRT_SVM, VIRT_VMX };
static enum virt virt;
static bool svm_npt, svm_nrips, vmx_ept, vmx_locked_off, vmx_usable;

static void probe(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	bool vmx = r[2] & (1u << 5);
	cpuid(0x80000000, 0, r);
	uint32_t max_ext = r[0];
	bool svm = false;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		svm = r[2] & (1u << 2);
	}
	if (svm && max_ext >= 0x8000000a) {
		cpuid(0x8000000a, 0, r);
		svm_npt = r[3] & 1;
		svm_nrips = r[3] & (1u << 3);
	}
	if (vmx) {
		uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
		vmx_locked_off = (fc & FC_LOCK) && !(fc & FC_VMX_OUTSIDE_SMX);
		/* secondary controls allowed (bit 63), and EPT in them (bit 33) */
		vmx_ept = (rdmsr(MSR_VMX_PROCBASED) >> 63) &&
			  ((rdmsr(MSR_VMX_PROCBASED2) >> 33) & 1);
	}
	virt = svm && svm_npt ? VIRT_SVM : vmx && vmx_ept && !vmx_locked_off ?
	       VIRT_VMX : VIRT_NONE;
}

static inline uint64_t read_cr(int n)
{
	uint64_t v = 0;
	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* VMXON on a fresh region, then VMXOFF: proves the CPU accepts our state. */
static bool vmx_on_off(void)
{
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & FC_LOCK))
		wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCK | FC_VMX_OUTSIDE_SMX);
	uint32_t *region = kmem_alloc_pages(0);
	if (!region)
		return false;
	memset(region, 0, PAGE_SIZE);
	region[0] = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff; /* revision */
	uint64_t cr0 = (read_cr(0) | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1);
	uint64_t cr4 = (read_cr(4) | CR4_VMXE | rdmsr(MSR_VMX_CR4_FIXED0)) &
		       rdmsr(MSR_VMX_CR4_FIXED1);
	__asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" :: "r"(cr0), "r"(cr4));
	uint64_t pa = (uintptr_t)region - DIRECT_MAP;
	uint8_t failed;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	if (!failed)
		__asm__ volatile("vmxoff" ::: "cc");
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 & ~CR4_VMXE));
	kmem_free_pages(region, 0);
	return !failed;
}

const struct x86_hv *x86_hv(void)
{
	return virt == VIRT_SVM ? &svm_hv : virt == VIRT_VMX && vmx_usable ? &vmx_hv : NULL;
}

const struct pt_format *arch_guest_pt_format(void)
{
	const struct x86_hv *hv = x86_hv();
	return hv && hv->guest_format ? hv->guest_format : arch_user_pt_format();
}

void arch_cpu_describe(char *buf, size_t len)
{
	probe();
	const char *use = virt == VIRT_SVM ? "SVM" : virt == VIRT_VMX ? "VMX" : "none";
	uint32_t r[4];
	cpuid(1, 0, r);
	bool has_vmx = r[2] & (1u << 5);
	snprintf(buf, len, "SVM %s%s, VMX %s%s; Cairn uses %s",
		 svm_npt ? "with NPT" : "without NPT or absent",
		 svm_nrips ? " and NRIPS" : "",
		 vmx_ept ? "with EPT" : has_vmx ? "without EPT" : "absent",
		 vmx_locked_off ? " (locked off by firmware)" : "", use);
}

/* Generic boot calls this once memory is up (VMXON needs a page): stop
 * with a clear message if the CPU offers nothing Cairn can use. */
void arch_virt_init(void)
{
	if (virt == VIRT_NONE) {
		printk("cairn: this CPU has neither SVM with nested paging nor VMX with "
		       "EPT, but Cairn is a hypervisor and needs one\n"
		       "cairn: (QEMU TCG: -cpu qemu64,+svm,+npt; Bochs: a VMX model)\n"
		       "cairn: powering off\n");
		arch_poweroff();
	}
	if (virt == VIRT_SVM) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
		if (!x86_svm_init_global())
			panic("svm: no memory for the permission maps");
		printk("virt: SVM enabled (EFER.SVME), nested paging available%s\n",
		       svm_nrips ? "" : "; no NRIPS: exits must decode instruction lengths");
	} else {
		bool on = vmx_on_off();
		vmx_usable = on && x86_vmx_probe();
		printk("virt: VMX with EPT, VMXON %s%s\n", on ? "ok" : "failed",
		       vmx_usable ? "" : "; guests need EPT with write-back tables, VPIDs, "
		       "unrestricted guest and INVEPT: none run here");
	}
}
