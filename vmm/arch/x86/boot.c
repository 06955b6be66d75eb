// SPDX-License-Identifier: Apache-2.0
/*
 * Zero page, e820, command line, initrd, page tables and GDT for the direct
 * 64-bit entry. Every write into guest memory goes through guest_mem_ptr(),
 * so a kernel or initrd that does not fit is an error, not an overflow.
 */
#include "boot.h"

#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "mptable.h"

#define E820_RAM      1
#define E820_RESERVED 2

#define PTE_PRESENT  (1ULL << 0)
#define PTE_WRITE    (1ULL << 1)
#define PTE_HUGE     (1ULL << 7)

unsigned x86_e820_build(const struct guest_mem *m, struct boot_e820_entry *tab, unsigned max)
{
	unsigned n = 0;

	if (max < 4)
		return 0;
	tab[n++] = (struct boot_e820_entry){ 0, X86_EBDA_START, E820_RAM };
	tab[n++] = (struct boot_e820_entry){ X86_EBDA_START, X86_HIMEM_START - X86_EBDA_START,
					     E820_RESERVED };
	tab[n++] = (struct boot_e820_entry){ X86_HIMEM_START, m->low_size - X86_HIMEM_START,
					     E820_RAM };
	if (m->high_size)
		tab[n++] = (struct boot_e820_entry){ MEM_4G, m->high_size, E820_RAM };
	return n;
}

int x86_initrd_place(const struct guest_mem *m, uint64_t kernel_end, uint64_t addr_max,
		     size_t len, uint64_t *gpa, struct ign_err *err)
{
	uint64_t top = m->low_size;

	if (addr_max && addr_max < top - 1)
		top = addr_max + 1;
	if (len > top || ((top - len) & ~0xfffULL) < kernel_end)
		return ign_err_setx(err, ENOMEM,
				    "guest memory too small: kernel needs up to %llu MiB and the "
				    "initrd %zu MiB more (use more --mem)",
				    (unsigned long long)(kernel_end >> 20), (len + (1 << 20) - 1) >> 20);
	*gpa = (top - len) & ~0xfffULL;
	return 0;
}

static int boot_copy(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len,
		     const char *what, struct ign_err *err)
{
	void *dst = guest_mem_ptr(m, gpa, len);

	if (!dst)
		return ign_err_setx(err, ENOMEM, "%s [0x%llx, +%llu MiB) does not fit in guest "
				    "memory (%llu MiB; use more --mem)", what,
				    (unsigned long long)gpa, (unsigned long long)(len >> 20) + 1,
				    (unsigned long long)(m->size >> 20));
	memcpy(dst, src, len);
	return 0;
}

static int boot_load_kernel(const struct guest_mem *m, const struct x86_boot_input *in,
			    struct ign_err *err)
{
	const struct x86_kernel_image *img = in->img;

	if (img->end > m->low_size)
		return ign_err_setx(err, ENOMEM, "guest memory too small: the kernel needs %llu MiB "
				    "(use more --mem)", (unsigned long long)(img->end >> 20) + 1);
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct x86_kernel_seg *s = &img->seg[i];
		int r = boot_copy(m, s->gpa, in->kernel + s->file_off, s->filesz, "kernel", err);
		if (r < 0)
			return r;
		memset(guest_mem_ptr(m, s->gpa, s->memsz) + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

static void boot_page_tables(const struct guest_mem *m)
{
	uint64_t *pml4 = guest_mem_ptr(m, X86_BOOT_PML4, 4096);
	uint64_t *pdpt = guest_mem_ptr(m, X86_BOOT_PDPT, 4096);
	uint64_t *pd = guest_mem_ptr(m, X86_BOOT_PD, 4 * 4096);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_BOOT_PDPT | PTE_PRESENT | PTE_WRITE;
	for (uint64_t g = 0; g < 4; g++)
		pdpt[g] = (X86_BOOT_PD + g * 4096) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
}

static void boot_gdt(const struct guest_mem *m)
{
	uint64_t *gdt = guest_mem_ptr(m, X86_BOOT_GDT, 4 * 8);

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL;  /* 0x10: 64-bit code, present, accessed */
	gdt[3] = 0x00cf93000000ffffULL;  /* 0x18: data, 4 GiB, present, accessed */
}

static void boot_header(struct boot_params *bp, const struct x86_kernel_image *img)
{
	if (img->is_bzimage) {
		memcpy(&bp->hdr, &img->hdr, img->hdr_len);
	} else {
		/* vmlinux has no setup header: write the fields the kernel reads. */
		bp->hdr.boot_flag = 0xaa55;
		bp->hdr.header = 0x53726448;
		bp->hdr.version = 0x020f;
		bp->hdr.kernel_alignment = 0x01000000;
		bp->hdr.initrd_addr_max = 0x7fffffff;
		bp->hdr.cmdline_size = X86_BOOT_CMDLINE_MAX - 1;
		bp->hdr.loadflags = LOADED_HIGH;
	}
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;  /* "normal" */
}

int x86_boot_setup(const struct guest_mem *m, const struct x86_boot_input *in,
		   struct ign_err *err)
{
	struct boot_params *bp;
	size_t cmdlen = strlen(in->cmdline);
	int r;

	if (m->low_size < 2 * X86_HIMEM_START)
		return ign_err_setx(err, ENOMEM, "guest memory too small");
	r = boot_load_kernel(m, in, err);
	if (r < 0)
		return r;

	bp = guest_mem_ptr(m, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	boot_header(bp, in->img);

	uint32_t cmdmax = bp->hdr.cmdline_size ? bp->hdr.cmdline_size : 255;
	if (cmdmax > X86_BOOT_CMDLINE_MAX - 1)
		cmdmax = X86_BOOT_CMDLINE_MAX - 1;
	if (cmdlen > cmdmax)
		return ign_err_setx(err, E2BIG, "kernel command line is %zu bytes, the kernel "
				    "takes at most %u", cmdlen, cmdmax);
	r = boot_copy(m, X86_BOOT_CMDLINE, in->cmdline, cmdlen + 1, "command line", err);
	if (r < 0)
		return r;
	bp->hdr.cmd_line_ptr = X86_BOOT_CMDLINE;

	if (in->initrd_len) {
		uint64_t gpa;
		r = x86_initrd_place(m, in->img->end, bp->hdr.initrd_addr_max, in->initrd_len,
				     &gpa, err);
		if (r < 0)
			return r;
		r = boot_copy(m, gpa, in->initrd, in->initrd_len, "initrd", err);
		if (r < 0)
			return r;
		bp->hdr.ramdisk_image = gpa;
		bp->hdr.ramdisk_size = in->initrd_len;
	}

	bp->e820_entries = x86_e820_build(m, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);

	uint8_t *mp = guest_mem_ptr(m, X86_MPTABLE_START, X86_HIMEM_START - X86_MPTABLE_START);
	r = x86_mptable_write(mp, X86_HIMEM_START - X86_MPTABLE_START, X86_MPTABLE_START,
			      in->vcpus, err);
	if (r < 0)
		return r;

	if (in->acpi) {
		uint8_t *acpi = guest_mem_ptr(m, X86_ACPI_START, X86_ACPI_SIZE);
		r = x86_acpi_write(acpi, X86_ACPI_SIZE, X86_ACPI_START, in->vcpus,
				   in->mmio_devs, in->nmmio_devs, err);
		if (r < 0)
			return r;
		bp->acpi_rsdp_addr = X86_ACPI_START;
	}

	boot_page_tables(m);
	boot_gdt(m);
	return 0;
}
