// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <elf.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/loader.h"

/* A minimal vmlinux-shaped ELF: one PT_LOAD of 64 bytes at 16 MiB. */
static size_t make_elf(uint8_t *buf, size_t cap)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	size_t len = sizeof(eh) + sizeof(ph) + 64;

	cr_assert_leq(len, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_machine = EM_X86_64;
	eh.e_entry = 0x1000000 + 0x10;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_LOAD;
	ph.p_offset = sizeof(eh) + sizeof(ph);
	ph.p_filesz = 64;
	ph.p_memsz = 4096;
	ph.p_paddr = 0x1000000;
	memset(buf, 0, cap);
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memset(buf + ph.p_offset, 0xab, 64);
	return len;
}

static Elf64_Phdr *phdr(uint8_t *buf)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
}

static Elf64_Ehdr *ehdr(uint8_t *buf)
{
	return (Elf64_Ehdr *)buf;
}

static void expect_fail(const uint8_t *buf, size_t len, const char *needle)
{
	struct x86_kernel_image img;
	struct ign_err err = { 0 };

	cr_assert_lt(x86_kernel_parse(buf, len, &img, &err), 0);
	cr_assert(strstr(err.msg, needle), "message `%s` lacks `%s`", err.msg, needle);
}

Test(loader, elf_parses_segments_and_entry)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	struct x86_kernel_image img;
	struct ign_err err = { 0 };

	cr_assert_eq(x86_kernel_parse(buf, len, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.is_bzimage, 0);
	cr_assert_eq(img.nseg, 1);
	cr_assert_eq(img.seg[0].gpa, 0x1000000);
	cr_assert_eq(img.seg[0].filesz, 64);
	cr_assert_eq(img.seg[0].memsz, 4096);
	cr_assert_eq(img.entry, 0x1000010);
	cr_assert_eq(img.end, 0x1000000 + 4096);
}

Test(loader, elf_truncated_header)
{
	uint8_t buf[512];
	make_elf(buf, sizeof(buf));
	expect_fail(buf, 40, "ELF header truncated");
}

Test(loader, elf_truncated_segment)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	expect_fail(buf, len - 1, "outside the file");
}

Test(loader, elf_program_headers_outside_file)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	ehdr(buf)->e_phoff = len - 8;
	expect_fail(buf, len, "program headers lie outside");
}

Test(loader, elf_huge_offset_does_not_wrap)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	phdr(buf)->p_offset = UINT64_MAX - 8;
	expect_fail(buf, len, "outside the file");
}

Test(loader, elf_filesz_above_memsz)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	phdr(buf)->p_memsz = 8;
	expect_fail(buf, len, "bad sizes");
}

Test(loader, elf_wrong_machine)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	ehdr(buf)->e_machine = EM_AARCH64;
	expect_fail(buf, len, "not x86_64");
}

Test(loader, elf_32bit)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	ehdr(buf)->e_ident[EI_CLASS] = ELFCLASS32;
	expect_fail(buf, len, "64-bit");
}

Test(loader, elf_entry_outside_segments)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	ehdr(buf)->e_entry = 0x5000000;
	expect_fail(buf, len, "entry");
}

Test(loader, elf_without_load_segment)
{
	uint8_t buf[512];
	size_t len = make_elf(buf, sizeof(buf));
	phdr(buf)->p_type = PT_NOTE;
	expect_fail(buf, len, "no PT_LOAD");
}

/* A bzImage-shaped file: 1 setup sector + boot sector, then 4 KiB of "kernel". */
static size_t make_bzimage(uint8_t *buf, size_t cap)
{
	size_t len = 2 * 512 + 4096;
	struct setup_header h = { 0 };

	cr_assert_leq(len, cap);
	memset(buf, 0, cap);
	h.setup_sects = 1;
	h.boot_flag = 0xaa55;
	h.header = 0x53726448;
	h.version = 0x020f;
	h.xloadflags = XLF_KERNEL_64;
	h.syssize = 4096 / 16;
	h.pref_address = 0x1000000;
	h.init_size = 0x800000;
	h.initrd_addr_max = 0x7fffffff;
	memcpy(buf + offsetof(struct boot_params, hdr), &h, sizeof(h));
	buf[0x201] = 0x6a;  /* header length, as in real images */
	return len;
}

static struct setup_header *bzhdr(uint8_t *buf)
{
	return (struct setup_header *)(buf + offsetof(struct boot_params, hdr));
}

Test(loader, bzimage_parses)
{
	static uint8_t buf[8192];
	size_t len = make_bzimage(buf, sizeof(buf));
	struct x86_kernel_image img;
	struct ign_err err = { 0 };

	cr_assert_eq(x86_kernel_parse(buf, len, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.is_bzimage, 1);
	cr_assert_eq(img.seg[0].file_off, 1024);
	cr_assert_eq(img.seg[0].filesz, 4096);
	cr_assert_eq(img.seg[0].gpa, 0x100000);
	cr_assert_eq(img.entry, 0x100200);
	cr_assert_eq(img.end, 0x1800000);  /* pref_address + init_size */
	cr_assert_eq(img.hdr.version, 0x020f);
	cr_assert_eq(img.hdr_len, 0x202 + 0x6a - 0x1f1);
}

Test(loader, bzimage_old_protocol)
{
	static uint8_t buf[8192];
	size_t len = make_bzimage(buf, sizeof(buf));
	bzhdr(buf)->version = 0x0206;
	expect_fail(buf, len, "too old");
}

Test(loader, bzimage_without_64bit_entry)
{
	static uint8_t buf[8192];
	size_t len = make_bzimage(buf, sizeof(buf));
	bzhdr(buf)->xloadflags = 0;
	expect_fail(buf, len, "no 64-bit entry");
}

Test(loader, bzimage_truncated)
{
	static uint8_t buf[8192];
	size_t len = make_bzimage(buf, sizeof(buf));
	expect_fail(buf, len - 100, "truncated");
	expect_fail(buf, 1024, "truncated");
}

Test(loader, junk_is_not_a_kernel)
{
	uint8_t buf[4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	expect_fail(buf, sizeof(buf), "not a kernel image");
	expect_fail(buf, 10, "too short");
}
