// SPDX-License-Identifier: Apache-2.0
/*
 * ELF vmlinux and bzImage parsing. Trust: the file is user input; every
 * header field is range-checked against the buffer before use, with sums
 * written so they cannot overflow.
 */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Is [off, off+n) inside a buffer of len bytes? */
static int in_buf(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static int elf_parse(const uint8_t *buf, size_t len, struct x86_kernel_image *img,
		     struct ign_err *err)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return ign_err_setx(err, EINVAL, "ELF header truncated (%zu bytes)", len);
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return ign_err_setx(err, EINVAL, "not a 64-bit little-endian ELF file");
	if (eh.e_machine != EM_X86_64)
		return ign_err_setx(err, EINVAL, "ELF machine %u is not x86_64", eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
		return ign_err_setx(err, EINVAL, "ELF file has no usable program headers");
	if (!in_buf(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
		return ign_err_setx(err, EINVAL, "ELF program headers lie outside the file");

	int entry_ok = 0;
	img->end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (img->nseg == X86_KERNEL_MAX_SEGS)
			return ign_err_setx(err, EINVAL, "ELF file has too many PT_LOAD segments");
		if (!in_buf(ph.p_offset, ph.p_filesz, len))
			return ign_err_setx(err, EINVAL,
					    "ELF segment %u lies outside the file (truncated?)", i);
		if (ph.p_filesz > ph.p_memsz || ph.p_memsz > UINT64_MAX - ph.p_paddr)
			return ign_err_setx(err, EINVAL, "ELF segment %u has bad sizes", i);
		img->seg[img->nseg++] = (struct x86_kernel_seg){
			.file_off = ph.p_offset, .filesz = ph.p_filesz,
			.memsz = ph.p_memsz, .gpa = ph.p_paddr,
		};
		if (ph.p_paddr + ph.p_memsz > img->end)
			img->end = ph.p_paddr + ph.p_memsz;
		if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = 1;
	}
	if (img->nseg == 0)
		return ign_err_setx(err, EINVAL, "ELF file has no PT_LOAD segment");
	if (!entry_ok)
		return ign_err_setx(err, EINVAL, "ELF entry 0x%llx is outside every segment",
				    (unsigned long long)eh.e_entry);
	img->entry = eh.e_entry;
	return 0;
}

static int bzimage_parse(const uint8_t *buf, size_t len, struct x86_kernel_image *img,
			 struct ign_err *err)
{
	const size_t hdr_off = offsetof(struct boot_params, hdr);
	struct setup_header *h = &img->hdr;

	if (len < hdr_off + sizeof(*h))
		return ign_err_setx(err, EINVAL, "not a kernel image: too short (%zu bytes)", len);
	memcpy(h, buf + hdr_off, sizeof(*h));
	if (h->boot_flag != 0xaa55 || h->header != 0x53726448 /* "HdrS" */)
		return ign_err_setx(err, EINVAL, "not a kernel image: no ELF magic and no "
				    "bzImage \"HdrS\" header");
	if (h->version < X86_BZIMAGE_MIN_VERSION)
		return ign_err_setx(err, EINVAL, "bzImage boot protocol %u.%02u is too old "
				    "(need 2.12 for the 64-bit entry)", h->version >> 8,
				    h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return ign_err_setx(err, EINVAL, "bzImage has no 64-bit entry point");

	/* The header's length is encoded in its own jump instruction (offset 0x201). */
	size_t hdr_end = 0x202 + buf[0x201];
	if (hdr_end > len || hdr_end - hdr_off > sizeof(*h))
		hdr_end = hdr_off + sizeof(*h);
	img->hdr_len = hdr_end - hdr_off;

	uint64_t setup_sects = h->setup_sects ? h->setup_sects : 4;
	uint64_t pm_off = (setup_sects + 1) * 512;
	if (pm_off >= len)
		return ign_err_setx(err, EINVAL, "bzImage truncated: no protected-mode kernel "
				    "after %llu setup sectors", (unsigned long long)setup_sects);
	if (h->syssize && (uint64_t)h->syssize * 16 > len - pm_off)
		return ign_err_setx(err, EINVAL, "bzImage truncated: %zu bytes, header says %llu",
				    len, (unsigned long long)(pm_off + (uint64_t)h->syssize * 16));

	img->is_bzimage = 1;
	img->nseg = 1;
	img->seg[0] = (struct x86_kernel_seg){
		.file_off = pm_off, .filesz = len - pm_off, .memsz = len - pm_off,
		.gpa = X86_BZIMAGE_LOAD,
	};
	img->entry = X86_BZIMAGE_LOAD + 0x200;
	/* The decompressor works in [pref_address, pref_address + init_size). */
	uint64_t end = X86_BZIMAGE_LOAD + (len - pm_off);
	if (h->pref_address + h->init_size > end)
		end = h->pref_address + h->init_size;
	img->end = end;
	return 0;
}

int x86_kernel_parse(const uint8_t *buf, size_t len, struct x86_kernel_image *img,
		     struct ign_err *err)
{
	memset(img, 0, sizeof(*img));
	if (len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0)
		return elf_parse(buf, len, img, err);
	return bzimage_parse(buf, len, img, err);
}
