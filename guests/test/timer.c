/* The tests of a guest timer that interrupts (AArch64's virtual timer,
 * riscv64's SBI timer), built for the ISAs whose guest has one: x86_64's
 * has none, its GT_SPIN paced by the TSC instead (x86_64/isa.c). */
#include "guests/test/common.h"

volatile unsigned timer_ticks;

/* Sleep until the timer's next interrupt, armed `ticks` from now. */
static void tick(uint64_t ticks)
{
	unsigned before = timer_ticks;
	timer_in(ticks);
	WAIT_UNTIL(timer_ticks != before);
}

uint64_t t_timer(void)
{
	irqs_on();
	uint64_t ms = ticks_per_ms();
	for (unsigned i = 0; i < GT_TIMER_TICKS; i++)
		tick(ms);
	FAIL_IF(!timer_alone());
	return TEST_PASS;
}

/* Timer ticks forever (the VMM migrates the thread meanwhile), each tick
 * reported by a write to the device. */
uint64_t t_spin(void)
{
	irqs_on();
	uint64_t ms = ticks_per_ms();
	for (;;) {
		tick(ms);
		*REG(TDEV_DATA) = timer_ticks;
	}
}
