/* Cairn's UEFI loader for AArch64 (BOOTAA64.EFI, built with Debian's GNU-EFI
 * for arm64; tools/gnu-efi-arm64.sh).
 *
 * Loads \cairn.img (the kernel's arm64 Image) from its own volume, 2 MiB
 * aligned as the Image header asks, reads the command line from
 * \cairn.cmdline and the optional boot module \cairn.initrd, and takes the
 * firmware's DTB from the EFI configuration table.  A copy of the DTB gets
 * them in /chosen (bootargs, linux,initrd-start/end: what the kernel reads
 * whichever loader started it) and the memory UEFI keeps after
 * ExitBootServices as /memreserve/ entries.  Then enter.S turns the MMU off
 * and enters the kernel as the arm64 boot protocol says (x0 = the DTB). */
#include <efi.h>
#include <efilib.h>
#include <libfdt.h>

#include "arch/aarch64/efi/ranges.h"

/* The arm64 Image header (Documentation/arm64/booting.rst). */
struct image_header {
	UINT32 code0, code1;
	UINT64 text_offset, image_size, flags, res2, res3, res4;
	UINT32 magic, res5;
};
#define IMAGE_MAGIC 0x644d5241 /* "ARM\x64" */
#define IMAGE_ANYWHERE (1u << 3) /* flags: any 2 MiB boundary in RAM will do */
#define IMAGE_ALIGN (2 * 1024 * 1024)
#define PAGES(n) (((n) + 4095) / 4096)
/* The kernel reserves at most 32 ranges (hyp/dtb.h) and takes a few of
 * its own; firmware's are merged down to this many. */
#define FW_RESV_MAX 16

void cairn_enter(UINT64 entry, UINT64 dtb, UINT64 dtb_size, UINT64 image,
		 UINT64 image_size, UINT64 initrd, UINT64 initrd_size) __attribute__((noreturn));

struct boot {
	UINT64 image, image_size;   /* where the kernel is, with its bss */
	UINT64 initrd, initrd_size; /* size 0 without \cairn.initrd */
	void *dtb;                  /* the copy the kernel gets */
	UINTN dtb_room;
	EFI_MEMORY_DESCRIPTOR *map; /* for ExitBootServices */
	UINTN map_cap, map_size, dsize;
	struct range *fw;           /* firmware's ranges, one per map entry */
};

static EFI_FILE_HANDLE root;

static EFI_STATUS fail(const CHAR16 *what, EFI_STATUS s)
{
	Print(L"cairn-efi: %s: %r\n", what, s);
	return s;
}

static EFI_STATUS file_size(EFI_FILE_HANDLE f, UINTN *size)
{
	EFI_FILE_INFO *info = LibFileInfo(f);
	if (!info)
		return EFI_DEVICE_ERROR;
	*size = info->FileSize;
	FreePool(info);
	return EFI_SUCCESS;
}

/* A whole file into pool memory, NUL-terminated; *size gets its length. */
static EFI_STATUS read_file(const CHAR16 *name, void **buf, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s = root->Open(root, &f, (CHAR16 *)name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	s = file_size(f, size);
	*buf = EFI_ERROR(s) ? NULL : AllocatePool(*size + 1);
	s = EFI_ERROR(s) ? s : *buf ? f->Read(f, size, *buf) : EFI_OUT_OF_RESOURCES;
	if (!EFI_ERROR(s))
		((char *)*buf)[*size] = 0;
	f->Close(f);
	return s;
}

/* \cairn.initrd (optional) into its own pages, page-aligned as the kernel
 * hands it to the root task frame by frame. */
static EFI_STATUS read_initrd(struct boot *b)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s = root->Open(root, &f, L"\\cairn.initrd", EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	UINTN size = 0;
	s = file_size(f, &size);
	if (!EFI_ERROR(s))
		s = size ? BS->AllocatePages(AllocateAnyPages, EfiLoaderData, PAGES(size),
					     &b->initrd)
			 : EFI_NOT_FOUND;
	if (!EFI_ERROR(s))
		s = f->Read(f, &size, (void *)b->initrd);
	b->initrd_size = EFI_ERROR(s) ? 0 : size;
	f->Close(f);
	return s;
}

/* The Image at a 2 MiB boundary plus text_offset, with room for its bss
 * (image_size); Cairn's header says it may be anywhere in RAM. */
static EFI_STATUS load_kernel(struct boot *b)
{
	void *file;
	UINTN size;
	EFI_STATUS s = read_file(L"\\cairn.img", &file, &size);
	if (EFI_ERROR(s))
		return s;
	const struct image_header *h = file;
	/* An Image that wants to sit near the start of RAM is not Cairn's. */
	if (size < sizeof(*h) || h->magic != IMAGE_MAGIC || h->image_size < size ||
	    !(h->flags & IMAGE_ANYWHERE))
		return EFI_LOAD_ERROR;
	EFI_PHYSICAL_ADDRESS pa;
	UINT64 span = h->text_offset + h->image_size;
	s = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, PAGES(span + IMAGE_ALIGN), &pa);
	if (EFI_ERROR(s))
		return s;
	b->image = ((pa + IMAGE_ALIGN - 1) & ~(UINT64)(IMAGE_ALIGN - 1)) + h->text_offset;
	b->image_size = h->image_size;
	CopyMem((void *)b->image, file, size);
	SetMem((void *)(b->image + size), h->image_size - size, 0);
	FreePool(file);
	return EFI_SUCCESS;
}

static EFI_GUID dtb_guid = EFI_DTB_TABLE_GUID;

static const void *firmware_dtb(void)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (!CompareGuid(&ST->ConfigurationTable[i].VendorGuid, &dtb_guid))
			return ST->ConfigurationTable[i].VendorTable;
	return NULL;
}

/* bootargs and the initrd in /chosen; a firmware's stale initrd goes. */
static int set_chosen(void *fdt, const char *cmdline, const struct boot *b)
{
	int node = fdt_path_offset(fdt, "/chosen");
	if (node < 0)
		node = fdt_add_subnode(fdt, 0, "chosen");
	if (node < 0)
		return node;
	int e = cmdline ? fdt_setprop_string(fdt, node, "bootargs", cmdline) : 0;
	if (e || !b->initrd_size) {
		fdt_delprop(fdt, node, "linux,initrd-start");
		fdt_delprop(fdt, node, "linux,initrd-end");
		return e;
	}
	e = fdt_setprop_u64(fdt, node, "linux,initrd-start", b->initrd);
	return e ? e : fdt_setprop_u64(fdt, node, "linux,initrd-end", b->initrd + b->initrd_size);
}

/* The firmware's DTB, copied into pages with room for /chosen's additions
 * and the /memreserve/ entries added after ExitBootServices. */
static EFI_STATUS copy_dtb(struct boot *b, const char *cmdline)
{
	const void *fw = firmware_dtb();
	if (!fw) {
		Print(L"cairn-efi: the firmware gives no device tree (QEMU: -machine ...,acpi=off)\n");
		return EFI_NOT_FOUND;
	}
	if (fdt_check_header(fw))
		return EFI_VOLUME_CORRUPTED;
	b->dtb_room = fdt_totalsize(fw) + (cmdline ? strlena((CHAR8 *)cmdline) : 0) + 4096 +
		      FW_RESV_MAX * sizeof(struct fdt_reserve_entry);
	EFI_PHYSICAL_ADDRESS pa;
	EFI_STATUS s = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, PAGES(b->dtb_room), &pa);
	if (EFI_ERROR(s))
		return s;
	b->dtb = (void *)pa;
	int e = fdt_open_into(fw, b->dtb, b->dtb_room);
	if (!e)
		e = set_chosen(b->dtb, cmdline, b);
	if (e)
		Print(L"cairn-efi: editing the device tree: %a\n", fdt_strerror(e));
	return e ? EFI_LOAD_ERROR : EFI_SUCCESS;
}

/* Memory UEFI still owns once boot services are gone: runtime services,
 * ACPI tables, firmware reservations.  The DTB's /memory nodes cover all of
 * RAM, so these must be reserved.  (Not RAM at all: MMIO.  Persistent
 * memory, type 14, is kept too: it is not for the allocator.) */
static BOOLEAN kept_after_exit(UINT32 type)
{
	switch (type) {
	case EfiConventionalMemory: case EfiBootServicesCode: case EfiBootServicesData:
	case EfiLoaderCode: case EfiLoaderData:
	case EfiMemoryMappedIO: case EfiMemoryMappedIOPortSpace:
		return FALSE;
	default:
		return TRUE;
	}
}

/* After ExitBootServices: no allocation, no output.  The room for these
 * entries was set aside in copy_dtb, so fdt_add_mem_rsv cannot fail; the
 * blob is then packed, so that the kernel reserves only what it holds. */
static void reserve_firmware_memory(struct boot *b)
{
	size_t n = 0;
	for (UINTN i = 0; i < b->map_size / b->dsize; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((UINT8 *)b->map + i * b->dsize);
		if (kept_after_exit(d->Type))
			range_insert(b->fw, &n, d->PhysicalStart,
				     d->PhysicalStart + d->NumberOfPages * 4096);
	}
	range_merge(b->fw, &n, FW_RESV_MAX);
	for (size_t i = 0; i < n; i++)
		fdt_add_mem_rsv(b->dtb, b->fw[i].base, b->fw[i].end - b->fw[i].base);
	fdt_pack(b->dtb);
}

/* The final memory map and ExitBootServices; a stale map key (the map
 * changed in between) is answered by fetching it again. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot *b)
{
	EFI_STATUS s;
	UINTN key;
	UINT32 dver;
	for (int tries = 0; tries < 4; tries++) {
		b->map_size = b->map_cap;
		s = BS->GetMemoryMap(&b->map_size, b->map, &key, &b->dsize, &dver);
		if (!EFI_ERROR(s) && !EFI_ERROR((s = BS->ExitBootServices(image, key))))
			return EFI_SUCCESS;
	}
	return s;
}

/* Room for the memory map and the ranges made from it: twice what it is now
 * (allocating the room itself adds entries). */
static EFI_STATUS alloc_map(struct boot *b)
{
	UINTN key, size = 0;
	UINT32 dver;
	BS->GetMemoryMap(&size, NULL, &key, &b->dsize, &dver);
	b->map_cap = 2 * size + 16 * b->dsize;
	UINTN entries = b->map_cap / b->dsize;
	b->map = AllocatePool(b->map_cap);
	b->fw = AllocatePool(entries * sizeof(*b->fw));
	return b->map && b->fw ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	EFI_LOADED_IMAGE *li;
	EFI_STATUS s = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(s) || !(root = LibOpenRoot(li->DeviceHandle)))
		return fail(L"cannot open the boot volume", s);
	struct boot b = { 0 };
	void *cmdline;
	UINTN cmd_size;
	if (EFI_ERROR((s = load_kernel(&b))))
		return fail(L"loading \\cairn.img", s);
	if (EFI_ERROR(read_file(L"\\cairn.cmdline", &cmdline, &cmd_size)))
		cmdline = NULL; /* the firmware's bootargs, if any, stay */
	if (EFI_ERROR(read_initrd(&b)))
		b.initrd_size = 0;
	if (EFI_ERROR((s = copy_dtb(&b, cmdline))))
		return fail(L"preparing the device tree", s);
	if (EFI_ERROR((s = alloc_map(&b))))
		return fail(L"allocating the memory map", s);
	Print(L"cairn-efi: kernel at 0x%lx, DTB at 0x%lx, initrd %ld bytes; "
	      L"exiting boot services\n", b.image, (UINT64)b.dtb, b.initrd_size);
	if (EFI_ERROR((s = exit_boot_services(image, &b))))
		return fail(L"ExitBootServices", s);
	reserve_firmware_memory(&b);
	cairn_enter(b.image, (UINT64)b.dtb, fdt_totalsize(b.dtb), b.image, b.image_size,
		    b.initrd, b.initrd_size);
}
