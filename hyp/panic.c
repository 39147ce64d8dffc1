#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/panic.h"
#include "hyp/printk.h"

static const char *const err_names[] = {
	[E_OK] = "ok",           [E_NOMEM] = "out of memory",
	[E_INVAL] = "invalid",   [E_RANGE] = "out of range",
	[E_OVERLAP] = "overlap", [E_NOENT] = "not found",
	[E_BADFMT] = "bad format", [E_FULL] = "table full",
	[E_BADCAP] = "bad capability", [E_BADTYPE] = "wrong object type",
	[E_RIGHTS] = "missing right", [E_ALIGN] = "misaligned",
	[E_SLOT] = "slot in use", [E_BUSY] = "busy", [E_PRIO] = "priority above MCP",
	[E_CANCELLED] = "cancelled", [E_WOULDBLOCK] = "would block",
	[E_NOSYS] = "no such system call",
};
_Static_assert(ARRAY_SIZE(err_names) == E_COUNT, "a name for every error");

const char *err_str(err_t e)
{
	return (unsigned)e < ARRAY_SIZE(err_names) ? err_names[e] : "?";
}

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
{
	char msg[160]; /* one printk, so other CPUs cannot split the line */
	va_list ap;
	arch_irq_local_disable();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("cairn: PANIC on cpu%u at %s:%d: %s\n", arch_cpu_id(), file, line, msg);
	panic_stop_others();
	arch_halt();
}

/* The other CPUs stop too: the kernel's state is not to be trusted, and
 * one that goes on could report a test passed (a CPU that panicked with
 * the big lock dropped, on x86_64's idle path, left the other running the
 * root task to the end).  Each stops as it next leaves the kernel, which
 * the IPI makes it do; one waiting for the lock the panicking CPU holds
 * waits for ever, which is as good. */
bool panicked;

void panic_stop_others(void)
{
	__atomic_store_n(&panicked, true, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < ncpus_online; c++)
		if (c != arch_cpu_id() && cpu_up(c))
			arch_ipi_send(c);
}
