/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel image parsing: an uncompressed ELF vmlinux (entered at its 64-bit
 * entry) or a bzImage (entered at the decompressor's 64-bit entry, load+0x200).
 * Parsing only reads the file buffer and validates every offset and size;
 * placing the result in guest memory is x86_boot_setup()'s job.
 */
#ifndef IGN_X86_LOADER_H
#define IGN_X86_LOADER_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define X86_KERNEL_MAX_SEGS 16
#define X86_BZIMAGE_LOAD    0x100000ULL  /* protected-mode part goes at 1 MiB */
#define X86_BZIMAGE_MIN_VERSION 0x020c   /* xloadflags and the 64-bit entry */

struct x86_kernel_seg {
	uint64_t file_off, filesz, memsz, gpa;
};

struct x86_kernel_image {
	int is_bzimage;
	uint64_t entry;   /* guest-physical address of the 64-bit entry */
	uint64_t end;     /* lowest address above everything the kernel needs at boot */
	unsigned nseg;
	struct x86_kernel_seg seg[X86_KERNEL_MAX_SEGS];
	/* bzImage: the file's setup header, [0x1f1, hdr_end) of the zero page. */
	struct setup_header hdr;
	size_t hdr_len;
};

int x86_kernel_parse(const uint8_t *buf, size_t len, struct x86_kernel_image *img,
		     struct ign_err *err);

#endif
