/* The demo `make run` shows: a client task and a server task in their own
 * address spaces exchanging messages through an endpoint. */
#include "servers/root/root.h"

/* Server: slot 1 its endpoint; adds the words it is sent. */
static void server(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		r.mr[0] = r.mr[0] + r.mr[1];
		r.info = msginfo(0, 1, 0);
		r.nr = SYS_REPLY_RECV;
		r.cap = 1;
		sys(&r);
	}
}

/* Client: slot 1 the server's endpoint, slot 2 a notification to the root;
 * its page gets the count of calls answered correctly. */
static void client(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	for (uint64_t i = 0; i < 1000; i++) {
		struct sysregs r = { .mr = { i, 1000 }, .nr = SYS_CALL, .cap = 1,
				     .info = msginfo(0, 2, 0) };
		if (sys(&r) == E_OK && r.mr[0] == i + 1000)
			p[0]++;
	}
	INV1(SYS_SIGNAL, 2, 1);
	child_park();
}

void run_demo(void)
{
	struct child s, c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), done = new_obj(OBJ_NOTIFICATION, 0), pf, pc;
	volatile uint64_t *page = new_page(&pf);
	if (child_create(&s, server, 0, ROOT_PRIO - 1) || child_create(&c, client, CHILD_SHARED_VA,
									ROOT_PRIO - 2) ||
	    child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc) ||
	    child_give(&s, 1, ep, R_READ) || child_give(&c, 1, ep, R_WRITE) ||
	    child_give(&c, 2, done, R_WRITE) || child_start(&s) || child_start(&c)) {
		printf("demo: could not set up the tasks\n");
		return;
	}
	printf("demo: server and client started in their own address spaces\n");
	struct sysregs r = { .nr = SYS_WAIT, .cap = done };
	sys(&r);
	printf("demo: client made 1000 calls, %lu answered correctly\n", page[0]);
	child_destroy(&c);
	child_destroy(&s);
}
