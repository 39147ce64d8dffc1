/* The soft timer lines (hyp/irq_timer.c): a one-shot set through an IRQ
 * handler capability, behaving as a level-triggered line, on every ISA. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

#define LINE(i) (IRQ_SOFT_TIMER + (i))

static uint64_t ms_ticks(uint64_t ms) { return counter_freq() * ms / 1000; }

/* A notification's bits: waiting for them, or only taking what is there. */
static uint64_t bits_wait(cptr_t n)
{
	struct sysregs r = { .nr = SYS_WAIT, .cap = n };
	return sys(&r) == E_OK ? r.cap : 0;
}

static uint64_t bits_poll(cptr_t n)
{
	struct sysregs r = { .nr = SYS_POLL, .cap = n };
	return sys(&r) == E_OK ? r.cap : 0;
}

static err_t line_take(uint64_t line, cptr_t h, cptr_t n, uint64_t bits)
{
	err_t e = INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, line, ROOT_CNODE, h);
	return e ? e : INV2(SYS_IRQ_SET_NOTIFICATION, h, n, bits);
}

static err_t timer_set(cptr_t h, uint64_t deadline)
{
	return INV1(SYS_IRQ_SET_TIMER, h, deadline);
}

/* Due, it fires once; acknowledged while still high it fires again; set
 * again (here: off) it is low; an expiry while masked waits for the ack;
 * a deadline set again replaces the earlier one. */
static bool t_soft_timer_level(void)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), h = slot_alloc();
	CHECK(n && h);
	CHECK_ERR(line_take(LINE(1), h, n, 1), E_OK);
	uint64_t t0 = counter_now();
	CHECK_ERR(timer_set(h, t0 + ms_ticks(5)), E_OK);
	CHECK(bits_wait(n) == 1 && counter_now() >= t0 + ms_ticks(5));
	CHECK(bits_poll(n) == 0);            /* masked: once */
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CHECK(bits_poll(n) == 1);            /* still high: again, at once */
	CHECK_ERR(timer_set(h, SOFT_TIMER_OFF), E_OK);
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CHECK(bits_poll(n) == 0);            /* low */
	/* a deadline in the past, while masked: held until the ack */
	CHECK_ERR(timer_set(h, 0), E_OK);
	CHECK(bits_wait(n) == 1);
	CHECK_ERR(timer_set(h, 0), E_OK);    /* lowered and due again, masked */
	for (uint64_t t = counter_now(); counter_now() - t < ms_ticks(5);)
		INV0(SYS_YIELD, 0);
	CHECK(bits_poll(n) == 0);
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CHECK(bits_poll(n) == 1);
	/* set again before it is due: the second deadline is the one */
	CHECK_ERR(timer_set(h, SOFT_TIMER_OFF), E_OK);
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	t0 = counter_now();
	CHECK_ERR(timer_set(h, t0 + ms_ticks(5000)), E_OK);
	CHECK_ERR(timer_set(h, t0 + ms_ticks(2)), E_OK);
	CHECK(bits_wait(n) == 1 && counter_now() - t0 < ms_ticks(4000));
	slot_free(h), slot_free(n);
	return true;
}
ROOT_TEST("soft-timer-level", t_soft_timer_level);

/* Every bad argument is refused, 64-bit arguments whole. */
static bool t_soft_timer_errors(void)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), h = slot_alloc(), weak = slot_alloc();
	cptr_t empty = slot_alloc();
	CHECK(n && h && weak && empty);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, LINE(IRQ_SOFT_TIMERS), ROOT_CNODE, h),
		  E_RANGE);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 1ull << 32 | LINE(1), ROOT_CNODE, h),
		  E_RANGE);
	CHECK_ERR(line_take(LINE(1), h, n, 1), E_OK);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, LINE(1), ROOT_CNODE, weak), E_BUSY);
	CHECK_ERR(timer_set(n, 0), E_BADTYPE);
	CHECK_ERR(timer_set(empty, 0), E_BADCAP);
	CHECK_ERR(timer_set(1ull << 32 | h, 0), E_BADCAP);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, weak, ROOT_CNODE, h, R_READ), E_OK);
	CHECK_ERR(timer_set(weak, 0), E_RIGHTS);
	CHECK(bits_poll(n) == 0);
	slot_free(weak), slot_free(h);
	if (UTIMER_IRQ != IRQ_SOFT_TIMER) { /* a hardware line has no deadline to set */
		CHECK_ERR(line_take(UTIMER_IRQ, h, n, 1), E_OK);
		CHECK_ERR(timer_set(h, 0), E_INVAL);
		slot_free(h);
	}
	slot_free(n), slot_free(empty);
	return true;
}
ROOT_TEST("soft-timer-errors", t_soft_timer_errors);

/* A child on another CPU sets and acknowledges a line as fast as it can
 * while this task revokes and deletes the handler: the child's calls then
 * fail, and the line's next holder gets nothing of the old deadlines. */
static void hammer(uint64_t unused)
{
	(void)unused;
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	for (;;) {
		err_t e = INV1(SYS_IRQ_SET_TIMER, 1, 0);
		if (e == E_OK)
			e = INV0(SYS_IRQ_ACK, 1);
		if (e) {
			p[1] = e;
			child_park();
		}
		p[0]++;
	}
}

/* Nothing arrives at n within ms (measured on a second line). */
static bool quiet_for(cptr_t n, uint64_t ms)
{
	cptr_t n2 = new_obj(OBJ_NOTIFICATION, 0), h = slot_alloc();
	bool ok = n2 && h && !line_take(LINE(2), h, n2, 1) &&
		  !timer_set(h, counter_now() + ms_ticks(ms)) && bits_wait(n2) == 1;
	slot_free(h), slot_free(n2);
	return ok && bits_poll(n) == 0;
}

static bool t_soft_timer_delete_race(void)
{
	struct accounts before = accounts_read();
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), h = slot_alloc(), page, shared;
	volatile uint64_t *p = new_page(&page);
	struct child c;
	CHECK(n && h && p);
	CHECK_ERR(line_take(LINE(3), h, n, 1), E_OK);
	CHECK_ERR(child_create(&c, hammer, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&c, page, CHILD_SHARED_VA, R_READ | R_WRITE, &shared), E_OK);
	CHECK_ERR(child_give(&c, 1, h, R_WRITE), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c.thread, bootinfo->ncpus - 1), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	uint64_t t0 = counter_now();
	while (p[0] < 1000 && counter_now() - t0 < 10 * counter_freq())
		INV0(SYS_YIELD, 0);
	bool hammered = p[0] >= 1000;
	err_t revoked = INV1(SYS_CNODE_REVOKE, ROOT_CNODE, h);
	err_t deleted = INV1(SYS_CNODE_DELETE, ROOT_CNODE, h);
	t0 = counter_now();
	while (!p[1] && counter_now() - t0 < 10 * counter_freq())
		INV0(SYS_YIELD, 0);
	err_t refused = (err_t)p[1];
	bits_poll(n); /* what the child raised before the end */
	err_t taken_again = line_take(LINE(3), h, n, 1);
	bool quiet = quiet_for(n, 20);
	child_destroy(&c);
	slot_free(h), slot_free(shared), slot_free(page), slot_free(n);
	CHECK(hammered);
	CHECK_ERR(revoked, E_OK);
	CHECK_ERR(deleted, E_OK);
	CHECK_ERR(refused, E_BADCAP);
	CHECK_ERR(taken_again, E_OK);
	CHECK(quiet);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("soft-timer-delete-race", t_soft_timer_delete_race);
