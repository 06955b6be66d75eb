// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"

static struct guest_mem mem_of(uint64_t size, int alloc)
{
	struct guest_mem m;

	guest_mem_layout(&m, size);
	m.hva = alloc ? calloc(1, size) : NULL;
	if (alloc)
		cr_assert_not_null(m.hva);
	return m;
}

Test(boot, e820_small_guest)
{
	struct guest_mem m = mem_of(128 << 20, 0);
	struct boot_e820_entry t[8];
	unsigned n = x86_e820_build(&m, t, 8);

	cr_assert_eq(n, 3);
	cr_assert_eq(t[0].addr, 0);
	cr_assert_eq(t[0].size, 0x9fc00);
	cr_assert_eq(t[0].type, 1);
	cr_assert_eq(t[1].type, 2);  /* EBDA + BIOS area reserved: MP and ACPI tables */
	cr_assert_eq(t[1].addr + t[1].size, 0x100000);
	cr_assert_eq(t[2].addr, 0x100000);
	cr_assert_eq(t[2].addr + t[2].size, 128 << 20);
}

Test(boot, e820_large_guest_skips_the_mmio_hole)
{
	struct guest_mem m = mem_of(4ULL << 30, 0);
	struct boot_e820_entry t[8];
	unsigned n = x86_e820_build(&m, t, 8);

	cr_assert_eq(n, 4);
	cr_assert_eq(t[2].addr + t[2].size, 3ULL << 30);
	cr_assert_eq(t[3].addr, 4ULL << 30);
	cr_assert_eq(t[3].size, 1ULL << 30);
	uint64_t total = t[0].size + t[2].size + t[3].size;
	cr_assert_eq(total, (4ULL << 30) - 0x100000 + 0x9fc00);
}

Test(boot, initrd_goes_high_and_page_aligned)
{
	struct guest_mem m = mem_of(128 << 20, 0);
	struct ign_err err = { 0 };
	uint64_t gpa;

	cr_assert_eq(x86_initrd_place(&m, 32 << 20, 0x7fffffff, 1000001, &gpa, &err), 0);
	cr_assert_eq(gpa & 0xfff, 0);
	cr_assert_leq(gpa + 1000001, 128 << 20);
	cr_assert_gt(gpa + 1000001 + 4096, 128 << 20);
}

Test(boot, initrd_respects_addr_max)
{
	struct guest_mem m = mem_of(1ULL << 30, 0);
	struct ign_err err = { 0 };
	uint64_t gpa;

	cr_assert_eq(x86_initrd_place(&m, 32 << 20, (256 << 20) - 1, 4096, &gpa, &err), 0);
	cr_assert_eq(gpa, (256 << 20) - 4096);
}

Test(boot, initrd_that_does_not_fit_is_an_error)
{
	struct guest_mem m = mem_of(64 << 20, 0);
	struct ign_err err = { 0 };
	uint64_t gpa;

	cr_assert_lt(x86_initrd_place(&m, 40 << 20, 0x7fffffff, 30 << 20, &gpa, &err), 0);
	cr_assert(strstr(err.msg, "too small"), "%s", err.msg);
	cr_assert_lt(x86_initrd_place(&m, 0, 0x7fffffff, 65 << 20, &gpa, &err), 0);
}

/* A fake vmlinux: 4 KiB of 0x5a at 16 MiB, entry at its start. */
static struct x86_kernel_image fake_elf(const uint8_t **file)
{
	static uint8_t k[4096];
	struct x86_kernel_image img = { 0 };

	memset(k, 0x5a, sizeof(k));
	img.nseg = 1;
	img.seg[0] = (struct x86_kernel_seg){ .file_off = 0, .filesz = 4096, .memsz = 8192,
					      .gpa = 16 << 20 };
	img.entry = 16 << 20;
	img.end = (16 << 20) + 8192;
	*file = k;
	return img;
}

Test(boot, zero_page_and_tables)
{
	struct guest_mem m = mem_of(64 << 20, 1);
	const uint8_t *kfile;
	struct x86_kernel_image img = fake_elf(&kfile);
	uint8_t initrd[10000];
	struct ign_err err = { 0 };

	memset(initrd, 0x77, sizeof(initrd));
	memset(m.hva + (16 << 20) + 4096, 0xee, 4096);  /* BSS must be zeroed */
	struct x86_boot_input in = {
		.img = &img, .kernel = kfile, .cmdline = "console=ttyS0 quiet",
		.initrd = initrd, .initrd_len = sizeof(initrd), .vcpus = 2, .acpi = 1,
	};
	cr_assert_eq(x86_boot_setup(&m, &in, &err), 0, "%s", err.msg);

	struct boot_params *bp = (void *)(m.hva + X86_BOOT_ZERO_PAGE);
	cr_assert_eq(bp->hdr.boot_flag, 0xaa55);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.type_of_loader, 0xff);
	cr_assert_eq(bp->hdr.cmd_line_ptr, X86_BOOT_CMDLINE);
	cr_assert_str_eq((char *)m.hva + X86_BOOT_CMDLINE, "console=ttyS0 quiet");
	cr_assert_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	cr_assert_eq(memcmp(m.hva + bp->hdr.ramdisk_image, initrd, sizeof(initrd)), 0);
	cr_assert_eq(bp->e820_entries, 3);
	cr_assert_eq(bp->acpi_rsdp_addr, X86_ACPI_START);
	cr_assert_eq(memcmp(m.hva + X86_ACPI_START, "RSD PTR ", 8), 0);
	cr_assert_eq(memcmp(m.hva + 0xf0000, "_MP_", 4), 0);

	/* kernel copied, BSS zeroed */
	cr_assert_eq(m.hva[(16 << 20)], 0x5a);
	cr_assert_eq(m.hva[(16 << 20) + 4095], 0x5a);
	cr_assert_eq(m.hva[(16 << 20) + 4096], 0);

	/* identity map: PML4[0] -> PDPT, PDPT[g] -> PD g, PD entries 2 MiB pages */
	uint64_t *pml4 = (void *)(m.hva + X86_BOOT_PML4);
	uint64_t *pdpt = (void *)(m.hva + X86_BOOT_PDPT);
	uint64_t *pd = (void *)(m.hva + X86_BOOT_PD);
	cr_assert_eq(pml4[0] & ~0xfffULL, X86_BOOT_PDPT);
	cr_assert_eq(pdpt[3] & ~0xfffULL, X86_BOOT_PD + 3 * 4096);
	cr_assert_eq(pd[5] & ~0xfffULL, 5ULL << 21);
	cr_assert_eq(pd[2047] & ~0xfffULL, 2047ULL << 21);
	cr_assert(pd[0] & 0x80, "2 MiB page bit");

	uint64_t *gdt = (void *)(m.hva + X86_BOOT_GDT);
	cr_assert(gdt[X86_GDT_CODE_SEL / 8] & (1ULL << 53), "code segment is 64-bit (L)");
	free(m.hva);
}

Test(boot, kernel_larger_than_memory_is_refused)
{
	struct guest_mem m = mem_of(16 << 20, 1);
	const uint8_t *kfile;
	struct x86_kernel_image img = fake_elf(&kfile);
	struct ign_err err = { 0 };
	struct x86_boot_input in = { .img = &img, .kernel = kfile, .cmdline = "", .vcpus = 1 };

	cr_assert_lt(x86_boot_setup(&m, &in, &err), 0);
	cr_assert(strstr(err.msg, "too small"), "%s", err.msg);
	free(m.hva);
}

Test(boot, command_line_too_long)
{
	struct guest_mem m = mem_of(64 << 20, 1);
	const uint8_t *kfile;
	struct x86_kernel_image img = fake_elf(&kfile);
	struct ign_err err = { 0 };
	static char cmd[5000];

	memset(cmd, 'a', sizeof(cmd) - 1);
	struct x86_boot_input in = { .img = &img, .kernel = kfile, .cmdline = cmd, .vcpus = 1 };
	cr_assert_lt(x86_boot_setup(&m, &in, &err), 0);
	cr_assert(strstr(err.msg, "command line"), "%s", err.msg);
	free(m.hva);
}
