/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI tables for a hardware-reduced platform (ACPI 6.x): RSDP -> XSDT ->
 * FADT (-> DSDT: \_S5, COM1, the virtio-mmio devices) and MADT (LAPICs,
 * IOAPIC, LINT1 NMI). They give the guest power-off and reset through two I/O
 * ports the VMM handles (devices/platform.c) and describe the interrupt
 * controllers and every device with its interrupt.
 */
#ifndef IGN_X86_ACPI_H
#define IGN_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define X86_ACPI_START 0xe0000U   /* inside the BIOS area Linux scans for the RSDP */
#define X86_ACPI_SIZE  0x10000U

/* I/O ports named in the FADT. */
#define X86_ACPI_SLEEP_CTL_PORT 0x600
#define X86_ACPI_SLEEP_STS_PORT 0x601
#define X86_ACPI_RESET_PORT     0x602
#define X86_ACPI_RESET_VALUE    0x1
#define X86_ACPI_S5_TYPE        5        /* SLP_TYP of \_S5 in the DSDT */
#define X86_ACPI_SLP_TYP(v)     (((v) >> 2) & 7)
#define X86_ACPI_SLP_EN         0x20

#define X86_ACPI_MAX_MMIO_DEVS 64

/* A virtio-mmio device for the DSDT: registers at [base, base+size) below 4 GiB. */
struct x86_acpi_mmio_dev {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

/* Writes the tables into buf, which the guest sees at base_gpa. Returns bytes used. */
int x86_acpi_write(uint8_t *buf, size_t buflen, uint32_t base_gpa, unsigned ncpus,
		   const struct x86_acpi_mmio_dev *devs, unsigned ndevs, struct ign_err *err);

#endif
