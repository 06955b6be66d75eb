/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct 64-bit boot (Linux boot protocol, "64-bit boot protocol" section):
 * the VMM builds the zero page, page tables and GDT itself and enters the
 * kernel in long mode; no BIOS, no real-mode setup code.
 *
 * Guest-physical layout below 1 MiB:
 *   0x00500  GDT (null, null, code64, data)
 *   0x01000  PML4, 0x2000 PDPT, 0x3000..0x6fff four PDs: identity map of 4 GiB
 *   0x07000  zero page (struct boot_params)
 *   0x08ff0  initial stack pointer
 *   0x20000  kernel command line
 *   0x9fc00  end of usable low memory (EBDA)
 *   0xe0000  ACPI tables, RSDP first (also named by boot_params.acpi_rsdp_addr)
 *   0xf0000  MP table (used when the guest boots with acpi=off)
 * The kernel goes to its ELF physical addresses (vmlinux) or 1 MiB (bzImage);
 * the initrd to the top of low RAM, below initrd_addr_max.
 */
#ifndef IGN_X86_BOOT_H
#define IGN_X86_BOOT_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "../../mem.h"
#include "acpi.h"
#include "ign/err.h"
#include "loader.h"

#define X86_BOOT_GDT       0x500ULL
#define X86_BOOT_PML4      0x1000ULL
#define X86_BOOT_PDPT      0x2000ULL
#define X86_BOOT_PD        0x3000ULL   /* 4 pages */
#define X86_BOOT_ZERO_PAGE 0x7000ULL
#define X86_BOOT_STACK     0x8ff0ULL
#define X86_BOOT_CMDLINE   0x20000ULL
#define X86_BOOT_CMDLINE_MAX 4096
#define X86_EBDA_START     0x9fc00ULL
#define X86_MPTABLE_START  0xf0000ULL
#define X86_HIMEM_START    0x100000ULL

#define X86_GDT_CODE_SEL 0x10
#define X86_GDT_DATA_SEL 0x18

struct x86_boot_input {
	const struct x86_kernel_image *img;
	const uint8_t *kernel;      /* the file the image was parsed from */
	const char *cmdline;
	const uint8_t *initrd;
	size_t initrd_len;
	unsigned vcpus;
	int acpi;                   /* also write ACPI tables */
	const struct x86_acpi_mmio_dev *mmio_devs;  /* for the DSDT */
	unsigned nmmio_devs;
};

/* Fills `tab` with the e820 map of `m`; returns the number of entries. */
unsigned x86_e820_build(const struct guest_mem *m, struct boot_e820_entry *tab, unsigned max);
/* Where the initrd goes: page-aligned, highest that fits; -ENOMEM if below kernel_end. */
int x86_initrd_place(const struct guest_mem *m, uint64_t kernel_end, uint64_t addr_max,
		     size_t len, uint64_t *gpa, struct ign_err *err);
/* Writes everything the guest needs to start into guest memory. */
int x86_boot_setup(const struct guest_mem *m, const struct x86_boot_input *in,
		   struct ign_err *err);

#endif
