/* Memory invocations: retype (make an object, paid from the quota) and
 * info.  The new capability is a child of the Memory capability. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/kmem.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "mm/memory.h"
#include "vcpu/vcpu.h"

/* type is the whole register: a value with high bits set is no type. */
static err_t size_ok(uint64_t type, uint64_t size)
{
	switch (type) {
	case OBJ_MEMORY:
		return size && IS_ALIGNED(size, PAGE_SIZE) ? E_OK : E_INVAL;
	case OBJ_CNODE:
		return size >= 1 && size <= CNODE_MAX_BITS ? E_OK : E_INVAL;
	case OBJ_FRAME:
		return size == FRAME_BITS_4K || size == FRAME_BITS_2M ? E_OK : E_INVAL;
	case OBJ_ASPACE: /* 1: an I/O address space, where there is an IOMMU */
		return size == 0 || (size == AS_IO && arch_io_pt_format()) ||
			       (size == AS_GUEST && arch_vcpu_supported()) ? E_OK : E_INVAL;
	case OBJ_THREAD: case OBJ_ENDPOINT: case OBJ_NOTIFICATION:
		return E_OK;
	case OBJ_VCPU:
		return size == 0 && arch_vcpu_supported() ? E_OK : E_INVAL;
	default:
		return E_INVAL;
	}
}

/* A sub-quota's NUMA node, x4 of the retype: 0 its parent's, MEM_NODE(n)
 * node n, which a parent tied to another node cannot grant. */
static err_t node_of(struct memory *parent, uint64_t arg, unsigned *node)
{
	if (arg == 0) {
		*node = parent->node;
		return E_OK;
	}
	if (arg > kmem.nnodes || (parent->node != PMEM_ANY_NODE && parent->node != arg - 1))
		return E_INVAL;
	*node = (unsigned)(arg - 1);
	return E_OK;
}

static err_t create(struct memory *m, enum obj_type type, uint64_t size,
		    struct thread *t, struct obj **out)
{
	err_t e;
	unsigned node;
	switch (type) {
	case OBJ_MEMORY:
		if ((e = node_of(m, arg(t, 4), &node)) || (e = memory_charge(m, size)))
			return e;
		if ((e = obj_alloc(m, type, sizeof(struct memory), out))) {
			memory_refund(m, size);
			return e;
		}
		memory_init((struct memory *)*out, size, node);
		return E_OK;
	case OBJ_CNODE:
		return cnode_create(m, size, (struct cnode **)out);
	case OBJ_FRAME:
		return frame_create(m, size, (struct frame **)out);
	case OBJ_ASPACE:
		return aspace_create(m, (unsigned)size, (struct aspace **)out);
	case OBJ_THREAD:
		return thread_create(m, t->cpu, (struct thread **)out);
	case OBJ_ENDPOINT:
		return obj_alloc(m, type, sizeof(struct endpoint), out);
	case OBJ_VCPU:
		return vcpu_create(m, (struct vcpu **)out);
	default:
		return obj_alloc(m, type, sizeof(struct notification), out);
	}
}

err_t sys_mem_retype(struct thread *t)
{
	struct cap *mc, *dst;
	uint64_t type = arg(t, 0), size = arg(t, 1);
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_MEMORY, R_WRITE, &mc)) ||
	    (e = lookup_slot(t, arg(t, 2), arg(t, 3), &dst)) ||
	    (e = size_ok(type, size)))
		return e;
	if (!cap_empty(dst))
		return E_SLOT;
	struct obj *o;
	if ((e = create((struct memory *)mc->obj, type, size, t, &o)))
		return e;
	struct cap v = { .obj = o, .type = type, .rights = R_ALL,
			 .size_bits = type == OBJ_FRAME ? size : 0 };
	obj_get(o);
	cap_install(dst, &v, mc);
	return E_OK;
}

err_t sys_mem_info(struct thread *t)
{
	struct cap *mc;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_MEMORY, 0, &mc);
	if (e)
		return e;
	struct memory *m = (struct memory *)mc->obj;
	set_ret(t, 0, m->quota);
	set_ret(t, 1, m->used);
	set_ret(t, 2, m->node == PMEM_ANY_NODE ? MEM_NODE_ANY : m->node);
	return E_OK;
}
