/* Cairn's UEFI loader (BOOTX64.EFI, built with Debian's GNU-EFI).
 *
 * Loads \cairn.elf from its own volume at the physical addresses of its
 * segments, reads the command line from \cairn.cmdline (and \cairn.initrd,
 * its first boot module, if there is one), finds the ACPI
 * RSDP and the Graphics Output Protocol's framebuffer, exits boot services
 * and enters the kernel's 64-bit entry with a multiboot2-format information
 * structure, so that the kernel reads one format whichever way it was
 * booted (arch/x86_64/boot.c). */
#include <efi.h>
#include <efilib.h>
#include <elf.h>

#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_FB_RGB 1
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MBI_SIZE (64 * 1024)

static EFI_FILE_HANDLE root;

static EFI_STATUS fail(const CHAR16 *what, EFI_STATUS s)
{
	Print(L"cairn-efi: %s: %r\n", what, s);
	return s;
}

/* Read a whole file into pool memory; *size gets its length. */
static EFI_STATUS read_file(const CHAR16 *name, void **buf, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s = root->Open(root, &f, (CHAR16 *)name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	EFI_FILE_INFO *info = LibFileInfo(f);
	if (!info) {
		f->Close(f);
		return EFI_DEVICE_ERROR;
	}
	*size = info->FileSize;
	FreePool(info);
	*buf = AllocatePool(*size + 1);
	s = *buf ? f->Read(f, size, *buf) : EFI_OUT_OF_RESOURCES;
	if (!EFI_ERROR(s))
		((char *)*buf)[*size] = 0;
	f->Close(f);
	return s;
}

/* \cairn.initrd (optional) into pages below 4 GiB (the multiboot2 module
 * tag has 32-bit addresses), page-aligned as the kernel wants it. */
static EFI_STATUS read_initrd(EFI_PHYSICAL_ADDRESS *pa, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s = root->Open(root, &f, L"\\cairn.initrd", EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	EFI_FILE_INFO *info = LibFileInfo(f);
	*size = info ? info->FileSize : 0;
	if (info)
		FreePool(info);
	*pa = 0xffffffff;
	s = !*size ? EFI_NOT_FOUND
		   : BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, (*size + 4095) / 4096, pa);
	if (!EFI_ERROR(s))
		s = f->Read(f, size, (void *)*pa);
	f->Close(f);
	return s;
}

/* Copy each PT_LOAD to its physical address; returns the entry's PA. */
static EFI_STATUS load_elf(const uint8_t *file, UINTN size, UINT64 *entry)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	if (size < sizeof(*eh) || eh->e_ident[EI_MAG0] != ELFMAG0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phoff + (UINT64)eh->e_phnum * sizeof(Elf64_Phdr) > size)
		return EFI_LOAD_ERROR;
	*entry = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff) + i;
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset + ph->p_filesz > size || ph->p_filesz > ph->p_memsz)
			return EFI_LOAD_ERROR;
		EFI_PHYSICAL_ADDRESS pa = ph->p_paddr & ~0xfffull;
		UINTN pages = (ph->p_paddr + ph->p_memsz - pa + 0xfff) / 0x1000;
		EFI_STATUS s = BS->AllocatePages(AllocateAddress, EfiLoaderData, pages, &pa);
		if (EFI_ERROR(s))
			return s;
		CopyMem((void *)ph->p_paddr, (void *)(file + ph->p_offset), ph->p_filesz);
		SetMem((void *)(ph->p_paddr + ph->p_filesz), ph->p_memsz - ph->p_filesz, 0);
		if (eh->e_entry >= ph->p_vaddr && eh->e_entry < ph->p_vaddr + ph->p_memsz)
			*entry = eh->e_entry - ph->p_vaddr + ph->p_paddr;
	}
	return *entry ? EFI_SUCCESS : EFI_LOAD_ERROR;
}

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID, acpi10_guid = ACPI_TABLE_GUID;

static void *find_rsdp(int *version)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (!CompareGuid(&t->VendorGuid, &acpi20_guid)) {
			*version = 2;
			return t->VendorTable;
		}
	}
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (!CompareGuid(&t->VendorGuid, &acpi10_guid)) {
			*version = 1;
			return t->VendorTable;
		}
	}
	return NULL;
}

/* A GOP mode the kernel's console draws on: 32-bit pixels, 8 bits a
 * colour (RGB or BGR order; bit masks and Blt-only modes are left out),
 * at least 800x600. */
static BOOLEAN gop_usable(const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *i)
{
	return (i->PixelFormat == PixelRedGreenBlueReserved8BitPerColor ||
		i->PixelFormat == PixelBlueGreenRedReserved8BitPerColor) &&
	       i->HorizontalResolution >= 800 && i->VerticalResolution >= 600 &&
	       i->PixelsPerScanLine >= i->HorizontalResolution;
}

/* The framebuffer's mode and address, copied while boot services (whose
 * pool holds the GOP's own copy) are still there. */
static EFI_GRAPHICS_OUTPUT_MODE_INFORMATION fb_mode;
static EFI_PHYSICAL_ADDRESS fb_base;

/* The GOP's current mode if usable, else the first usable one (set here);
 * FALSE where there is no GOP (no display) or no usable mode. */
static BOOLEAN find_gop(void)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop->Mode)
		return FALSE;
	BOOLEAN ok = gop->Mode->Info && gop_usable(gop->Mode->Info);
	for (UINT32 m = 0; !ok && m < gop->Mode->MaxMode; m++) {
		EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
		UINTN size;
		if (EFI_ERROR(gop->QueryMode(gop, m, &size, &info)))
			continue;
		ok = gop_usable(info) && !EFI_ERROR(gop->SetMode(gop, m));
		FreePool(info);
	}
	if (ok) {
		fb_mode = *gop->Mode->Info;
		fb_base = gop->Mode->FrameBufferBase;
	}
	return ok;
}

/* Multiboot2 information, built in place. */
struct mbi { uint8_t *base; UINT32 off; };

static void *tag(struct mbi *m, UINT32 type, UINT32 size)
{
	uint8_t *t = m->base + m->off;
	((UINT32 *)t)[0] = type;
	((UINT32 *)t)[1] = size;
	m->off += (size + 7) & ~7u;
	return t + 8;
}

static void tag_string(struct mbi *m, UINT32 type, const char *s)
{
	UINT32 n = 0;
	while (s[n])
		n++;
	CopyMem(tag(m, type, 8 + n + 1), (void *)s, n + 1);
}

/* UEFI types that are free once boot services are gone count as available. */
static UINT32 mb2_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory: case EfiBootServicesCode:
	case EfiBootServicesData: case EfiLoaderCode: case EfiLoaderData:
		return 1;
	case EfiACPIReclaimMemory: return 3;
	case EfiACPIMemoryNVS: return 4;
	default: return 2;
	}
}

/* The multiboot2 framebuffer tag, as GRUB fills it for a video mode:
 * direct RGB colour with each field's bit position and size. */
static void tag_framebuffer(struct mbi *m)
{
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *i = &fb_mode;
	uint8_t *t = tag(m, MB2_TAG_FRAMEBUFFER, 8 + 24 + 6);
	BOOLEAN rgb = i->PixelFormat == PixelRedGreenBlueReserved8BitPerColor;
	*(UINT64 *)t = fb_base;
	((UINT32 *)t)[2] = i->PixelsPerScanLine * 4; /* pitch in bytes */
	((UINT32 *)t)[3] = i->HorizontalResolution;
	((UINT32 *)t)[4] = i->VerticalResolution;
	t[20] = 32;          /* bits per pixel */
	t[21] = MB2_FB_RGB;
	t[22] = t[23] = 0;   /* reserved */
	uint8_t fields[6] = { rgb ? 0 : 16, 8, 8, 8, rgb ? 16 : 0, 8 };
	CopyMem(t + 24, fields, 6);
}

static void tag_mmap(struct mbi *m, EFI_MEMORY_DESCRIPTOR *map, UINTN size, UINTN dsize)
{
	UINTN n = size / dsize;
	UINT32 *t = tag(m, MB2_TAG_MMAP, 16 + 24 * n);
	t[0] = 24; /* entry size */
	t[1] = 0;  /* entry version */
	uint8_t *e = (uint8_t *)(t + 2);
	for (UINTN i = 0; i < n; i++, e += 24) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((uint8_t *)map + i * dsize);
		*(UINT64 *)e = d->PhysicalStart;
		*(UINT64 *)(e + 8) = d->NumberOfPages * 4096;
		*(UINT32 *)(e + 16) = mb2_type(d->Type);
		*(UINT32 *)(e + 20) = 0;
	}
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	EFI_LOADED_IMAGE *li;
	EFI_STATUS s = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(s) || !(root = LibOpenRoot(li->DeviceHandle)))
		return fail(L"cannot open the boot volume", s);
	void *elf, *cmdline = NULL;
	UINTN elf_size, cmd_size;
	UINT64 entry;
	if (EFI_ERROR((s = read_file(L"\\cairn.elf", &elf, &elf_size))))
		return fail(L"reading \\cairn.elf", s);
	if (EFI_ERROR(read_file(L"\\cairn.cmdline", &cmdline, &cmd_size)))
		cmdline = NULL;
	if (EFI_ERROR((s = load_elf(elf, elf_size, &entry))))
		return fail(L"loading \\cairn.elf", s);
	EFI_PHYSICAL_ADDRESS initrd = 0;
	UINTN initrd_size = 0;
	if (EFI_ERROR(read_initrd(&initrd, &initrd_size)))
		initrd_size = 0;
	int acpi_version = 0;
	void *rsdp = find_rsdp(&acpi_version);
	BOOLEAN gop = find_gop();

	EFI_PHYSICAL_ADDRESS mbi_pa = 0xffffffff; /* the kernel reads it below 4 GiB */
	UINTN map_cap = MBI_SIZE / 2;
	EFI_MEMORY_DESCRIPTOR *map;
	if (EFI_ERROR((s = BS->AllocatePages(AllocateMaxAddress, EfiLoaderData,
					     MBI_SIZE / 4096, &mbi_pa))) ||
	    EFI_ERROR((s = BS->AllocatePool(EfiLoaderData, map_cap, (void **)&map))))
		return fail(L"allocating boot information", s);
	Print(L"cairn-efi: kernel loaded, entry at 0x%lx; exiting boot services\n", entry);

	UINTN map_size, key, dsize;
	UINT32 dver;
	for (int tries = 0;; tries++) {
		map_size = map_cap;
		s = BS->GetMemoryMap(&map_size, map, &key, &dsize, &dver);
		if (!EFI_ERROR(s) && !EFI_ERROR((s = BS->ExitBootServices(image, key))))
			break;
		if (tries == 3)
			return fail(L"ExitBootServices", s);
	}
	/* No boot services from here: build the information and go. */
	struct mbi m = { (uint8_t *)mbi_pa, 8 };
	tag_string(&m, MB2_TAG_LOADER, "Cairn UEFI loader (GNU-EFI)");
	tag_string(&m, MB2_TAG_CMDLINE, cmdline ? (const char *)cmdline : "");
	if (rsdp)
		CopyMem(tag(&m, acpi_version == 2 ? MB2_TAG_ACPI_NEW : MB2_TAG_ACPI_OLD,
			    8 + (acpi_version == 2 ? 36 : 20)), rsdp,
			acpi_version == 2 ? 36 : 20);
	if (initrd_size) {
		UINT32 *mod = tag(&m, MB2_TAG_MODULE, 16 + 7);
		mod[0] = (UINT32)initrd;
		mod[1] = (UINT32)(initrd + initrd_size);
		CopyMem(mod + 2, "initrd", 7);
	}
	if (gop)
		tag_framebuffer(&m);
	tag_mmap(&m, map, map_size, dsize);
	tag(&m, 0, 8);
	((UINT32 *)m.base)[0] = m.off;
	((UINT32 *)m.base)[1] = 0;
	((void (*)(UINT64))entry)(mbi_pa);
	return EFI_LOAD_ERROR; /* not reached */
}
