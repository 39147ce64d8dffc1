/* A backend's guard against its clients' VMMs (vdev_client.h).  A VMM may
 * take back (revoke) the guest RAM it granted while the backend is using
 * it, and the backend's next access there faults.  That must cost that
 * client its device, not every client theirs: so the backend's faults come
 * to a second thread of its own, this guard.  A fault in a client's RAM
 * window resumes the backend at vdev_recover, which unwinds to the pass it
 * was serving (vdev_guarded_serve), where that client is forgotten as if
 * its VMM had ended.  Any other fault is the backend's own bug: the guard
 * hands the backend's faults back to its supervisor (VDEV_SLOT_FAULT, the
 * endpoint it had) and the fault is taken again there, as it was before
 * the guard (without a supervisor the backend stays stopped). */
#include "servers/lib/vdev_client.h"
#include "servers/root/root.h"

#define GUARD_STACK 8192
static uint8_t guard_stack[GUARD_STACK] __attribute__((aligned(16)));
static void *recover_buf[5];          /* __builtin_setjmp's */
static volatile unsigned faulted;     /* the client whose window faulted */
static unsigned nclients;
static cptr_t guard_ep, cspace;
static volatile bool guarding;

static void vdev_recover(void) { __builtin_longjmp(recover_buf, 1); }

/* The backend's (ROOT_THREAD's) faults to `ep`: it is stopped for that, and
 * a fault it was delivering is taken again when it resumes. */
static void faults_to(cptr_t ep)
{
	INV0(SYS_THREAD_SUSPEND, ROOT_THREAD);
	INV3(SYS_THREAD_CONFIGURE, ROOT_THREAD, cspace, ROOT_ASPACE, ep);
	INV0(SYS_THREAD_RESUME, ROOT_THREAD);
}

static bool in_window(const struct sysregs *r, unsigned *client)
{
	uint64_t a = r->mr[0];
	if (msginfo_label(r->info) != FAULT_PAGE || a < VDEV_GMEM_VA ||
	    (a - VDEV_GMEM_VA) / VDEV_GMEM_SPAN >= nclients)
		return false;
	*client = (unsigned)((a - VDEV_GMEM_VA) / VDEV_GMEM_SPAN);
	return true;
}

static void guard(uint64_t unused)
{
	(void)unused;
	faults_to(guard_ep);
	__atomic_store_n(&guarding, true, __ATOMIC_RELEASE);
	struct sysregs r = { .nr = SYS_RECV, .cap = guard_ep };
	for (;;) {
		unsigned c;
		if (sys(&r)) {
			r = (struct sysregs){ .nr = SYS_RECV, .cap = guard_ep };
			continue;
		}
		if (!in_window(&r, &c))
			break;
		faulted = c;
		r = (struct sysregs){ .mr = { 1, (uint64_t)vdev_recover }, .nr = SYS_REPLY_RECV,
				      .cap = guard_ep, .info = msginfo(0, 2, 0) };
	}
	printf("vdev: a fault at 0x%lx (pc 0x%lx), not in a client's RAM\n", r.mr[0], r.mr[1]);
	uint64_t info[5];
	if (!inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, VDEV_SLOT_FAULT, 0, 0, 0, 0, 0, info) &&
	    info[0] == OBJ_ENDPOINT)
		faults_to(VDEV_SLOT_FAULT);
	for (;;) /* the supervisor decides: this thread goes with the server */
		INV0(SYS_THREAD_SUSPEND, 0);
}

bool vdev_guard_start(unsigned clients)
{
	cptr_t th = new_obj(OBJ_THREAD, 0);
	nclients = clients;
	guard_ep = new_obj(OBJ_ENDPOINT, 0);
	cspace = slot_alloc();
	/* this task's CSpace, guarded as its own root is, for the guard */
	if (!th || !guard_ep || !cspace ||
	    inv(SYS_CNODE_MINT, ROOT_CNODE, cspace, ROOT_CNODE, ROOT_CNODE, R_ALL, 0,
		64 - bootinfo->cnode_bits, 0) ||
	    INV3(SYS_THREAD_CONFIGURE, th, cspace, ROOT_ASPACE, 0) ||
	    INV4(SYS_THREAD_WRITE_REGS, th, (uint64_t)guard, (uint64_t)guard_stack + GUARD_STACK,
		 0, 0) ||
	    INV2(SYS_THREAD_SET_PRIORITY, th, bootinfo->prio, bootinfo->prio) ||
	    INV0(SYS_THREAD_RESUME, th))
		return false;
	while (!__atomic_load_n(&guarding, __ATOMIC_ACQUIRE))
		INV0(SYS_YIELD, 0);
	return true;
}

bool vdev_guarded_serve(const struct vdev_backend *b)
{
	if (__builtin_setjmp(recover_buf)) {
		unsigned c = faulted;
		printf("%s: client %u's RAM is gone (its VMM took it back): its device is dropped\n",
		       b->name, c + 1);
		struct sysregs f = { .info = msginfo(VDEV_FORGET, 1, 0), .mr = { c + 1 } };
		b->forget(&f);
		return true; /* the others' chains may have been left */
	}
	return b->serve();
}
