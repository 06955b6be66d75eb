// SPDX-License-Identifier: Apache-2.0
/*
 * Layout in the buffer: RSDP (36 B, 16-aligned), then XSDT, FADT, DSDT, MADT,
 * each 16-aligned. Every table's checksum makes its bytes sum to zero; the
 * RSDP has two (first 20 bytes, whole structure).
 *
 * Hardware-reduced means no PM1 event/control blocks, no SCI, no PM timer:
 * power-off is the FADT's sleep control register, reset its reset register.
 * Linux then also skips the legacy PIC and PIT and runs the LAPIC timer in
 * TSC-deadline mode (cpuid.c advertises it); a device's interrupt reaches it
 * only when the DSDT describes the device with its IRQ in _CRS.
 */
#include "acpi.h"

#include <errno.h>
#include <string.h>

#include "devices/serial.h"
#include "mptable.h"

#define ACPI_OEM_ID    "IGNVMM"
#define ACPI_OEM_TABLE "MICROVM "
#define ACPI_HDR_LEN   36

#define FADT_LEN       276
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED    (1u << 20)
#define FADT_BOOT_NO_VGA     (1u << 2)
#define FADT_BOOT_NO_MSI     (1u << 3)
#define FADT_BOOT_NO_ASPM    (1u << 4)
#define FADT_BOOT_NO_CMOS    (1u << 5)
#define GAS_SYSTEM_IO  1
#define GAS_ACCESS_BYTE 1

#define MADT_LAPIC      0
#define MADT_IOAPIC     1
#define MADT_INT_OVERRIDE 2
#define MADT_LAPIC_NMI  4

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE, 8);
	put32(t + 24, 1);          /* OEM revision */
	memcpy(t + 28, "IGNV", 4); /* creator ID */
	put32(t + 32, 1);          /* creator revision */
}

static void acpi_seal(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

static void gas_io(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;  /* bit width */
	g[2] = 0;  /* bit offset */
	g[3] = GAS_ACCESS_BYTE;
	put64(g + 4, port);
}

/*
 * The DSDT's AML, hand-assembled (what iasl would emit for):
 *   Name (_S5, Package (2) { 5, 0 })
 *   Scope (\_SB) {
 *     Device (COM1) { Name (_HID, EisaId ("PNP0501")) Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 1, 8) IRQNoFlags () {4} }) }
 *     Device (Vnnn) { Name (_HID, "LNRO0005") Name (_UID, n)      one per virtio-mmio device
 *       Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, size)
 *                                         Interrupt (ResourceConsumer, Edge, ActiveHigh) {gsi} }) }
 *   }
 * Devices must be described: a hardware-reduced guest has no legacy PIC, so
 * Linux only wires an interrupt to the IOAPIC for a device whose _CRS asks for
 * it (8250_pnp for COM1, virtio_mmio's "LNRO0005" ACPI match for virtio).
 */
static const uint8_t aml_s5[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, X86_ACPI_S5_TYPE, 0x00,
};

static const uint8_t aml_com1[] = {
	0x5b, 0x82, 43, 'C', 'O', 'M', '1',                           /* Device (COM1) */
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,        /* PNP0501 */
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 16, 0x0a, 13,                 /* Buffer (13) */
	0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,               /* IO 0x3f8/8 */
	0x22, 1u << SERIAL_COM1_IRQ, 0x00,                            /* IRQ 4 */
	0x79, 0x00,                                                   /* end tag */
};

#define AML_VIRTIO_DEV_LEN 61

static void aml_virtio_dev(uint8_t *p, unsigned idx, const struct x86_acpi_mmio_dev *d)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t head[] = {
		0x5b, 0x82, 59, 'V', hex[idx >> 8 & 15], hex[idx >> 4 & 15], hex[idx & 15],
		0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x0a, (uint8_t)idx,
		0x08, '_', 'C', 'R', 'S', 0x11, 26, 0x0a, 23,
		0x86, 0x09, 0x00, 0x01,             /* Memory32Fixed, read-write */
	};
	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	put32(p, (uint32_t)d->base);
	put32(p + 4, d->size);
	p += 8;
	const uint8_t irq[] = { 0x89, 0x06, 0x00, 0x03, 0x01 };  /* consumer, edge, high; 1 */
	memcpy(p, irq, sizeof(irq));
	put32(p + sizeof(irq), d->gsi);
	p += sizeof(irq) + 4;
	p[0] = 0x79, p[1] = 0x00;
}

/* PkgLength (ACPI 20.2.4) for a package whose contents after it are `body` bytes. */
static unsigned aml_pkglen(uint8_t *p, uint32_t body)
{
	if (body + 1 < 64) {
		p[0] = body + 1;
		return 1;
	}
	if (body + 2 < 4096) {
		uint32_t l = body + 2;
		p[0] = 0x40 | (l & 15);
		p[1] = l >> 4;
		return 2;
	}
	uint32_t l = body + 3;
	p[0] = 0x80 | (l & 15);
	p[1] = l >> 4;
	p[2] = l >> 12;
	return 3;
}

static uint32_t acpi_dsdt_max(unsigned ndevs)
{
	return ACPI_HDR_LEN + sizeof(aml_s5) + 1 + 3 + 5 + sizeof(aml_com1) +
	       ndevs * AML_VIRTIO_DEV_LEN;
}

static uint32_t acpi_dsdt(uint8_t *t, const struct x86_acpi_mmio_dev *devs, unsigned ndevs)
{
	uint8_t *p = t + ACPI_HDR_LEN;
	uint32_t body = 5 + sizeof(aml_com1) + ndevs * AML_VIRTIO_DEV_LEN;

	memcpy(p, aml_s5, sizeof(aml_s5));
	p += sizeof(aml_s5);
	*p++ = 0x10;                                    /* ScopeOp */
	p += aml_pkglen(p, body);
	memcpy(p, "\\_SB_", 5);
	p += 5;
	memcpy(p, aml_com1, sizeof(aml_com1));
	p += sizeof(aml_com1);
	for (unsigned i = 0; i < ndevs; i++, p += AML_VIRTIO_DEV_LEN)
		aml_virtio_dev(p, i, &devs[i]);

	uint32_t len = p - t;
	acpi_header(t, "DSDT", len, 2);
	acpi_seal(t);
	return len;
}

static uint32_t acpi_fadt(uint8_t *t, uint32_t dsdt)
{
	acpi_header(t, "FACP", FADT_LEN, 6);
	put32(t + 40, dsdt);
	put16(t + 109, FADT_BOOT_NO_VGA | FADT_BOOT_NO_MSI | FADT_BOOT_NO_ASPM | FADT_BOOT_NO_CMOS);
	put32(t + 112, FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP);
	gas_io(t + 116, X86_ACPI_RESET_PORT);
	t[128] = X86_ACPI_RESET_VALUE;
	t[131] = 3;                     /* FADT minor version: ACPI 6.3 */
	put64(t + 140, dsdt);           /* X_DSDT */
	gas_io(t + 244, X86_ACPI_SLEEP_CTL_PORT);
	gas_io(t + 256, X86_ACPI_SLEEP_STS_PORT);
	memcpy(t + 268, "IGNVMM\0\0", 8); /* hypervisor vendor identity */
	acpi_seal(t);
	return FADT_LEN;
}

static uint32_t acpi_madt(uint8_t *t, unsigned ncpus)
{
	uint8_t *p = t + ACPI_HDR_LEN + 8;

	put32(t + ACPI_HDR_LEN, X86_LAPIC_ADDR);
	put32(t + ACPI_HDR_LEN + 4, 0);  /* no PC-AT 8259s: hardware-reduced */
	for (unsigned i = 0; i < ncpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = i;        /* ACPI processor UID */
		p[3] = i;        /* APIC ID */
		put32(p + 4, 1); /* enabled */
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = ncpus;        /* IOAPIC ID, after the LAPICs' */
	p[3] = 0;
	put32(p + 4, X86_IOAPIC_ADDR);
	put32(p + 8, 0);     /* GSI base */
	p += 12;
	/* ISA IRQ n is GSI n, edge, active high, as on a PC. On a PIC-less guest
	 * these alone do not get the 16550 its interrupt (tried: Linux maps no ISA
	 * IRQ without a legacy PIC); COM1's _CRS in the DSDT does. */
	for (unsigned irq = 1; irq < X86_ISA_IRQS; irq++, p += 10) {
		p[0] = MADT_INT_OVERRIDE;
		p[1] = 10;
		p[2] = 0;            /* ISA bus */
		p[3] = irq;
		put32(p + 4, irq);   /* GSI */
		put16(p + 8, 0);     /* conforms to the bus */
	}
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff;         /* all processors */
	put16(p + 3, 0);
	p[5] = 1;            /* LINT1 */
	p += 6;

	uint32_t len = p - t;
	acpi_header(t, "APIC", len, 5);
	acpi_seal(t);
	return len;
}

static uint32_t align16(uint32_t v)
{
	return (v + 15) & ~15u;
}

int x86_acpi_write(uint8_t *buf, size_t buflen, uint32_t base_gpa, unsigned ncpus,
		   const struct x86_acpi_mmio_dev *devs, unsigned ndevs, struct ign_err *err)
{
	const uint32_t xsdt_len = ACPI_HDR_LEN + 2 * 8;
	const uint32_t madt_max = ACPI_HDR_LEN + 8 + ncpus * 8 + 12 + (X86_ISA_IRQS - 1) * 10 + 6;
	uint32_t xsdt = 48, fadt = align16(xsdt + xsdt_len), dsdt = align16(fadt + FADT_LEN);
	uint32_t madt;

	if (ncpus == 0 || ncpus > 254)
		return ign_err_setx(err, EINVAL, "ACPI: %u CPUs is out of range", ncpus);
	if (ndevs > X86_ACPI_MAX_MMIO_DEVS)
		return ign_err_setx(err, EINVAL, "ACPI: %u devices, at most %d", ndevs,
				    X86_ACPI_MAX_MMIO_DEVS);
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].base + devs[i].size > 0x100000000ULL)
			return ign_err_setx(err, EINVAL, "ACPI: device %u above 4 GiB", i);
	madt = align16(dsdt + acpi_dsdt_max(ndevs));
	if (madt + madt_max > buflen)
		return ign_err_setx(err, ENOSPC, "ACPI tables do not fit in %zu bytes", buflen);
	memset(buf, 0, madt + madt_max);

	acpi_dsdt(buf + dsdt, devs, ndevs);
	acpi_fadt(buf + fadt, base_gpa + dsdt);
	uint32_t end = madt + acpi_madt(buf + madt, ncpus);

	acpi_header(buf + xsdt, "XSDT", xsdt_len, 1);
	put64(buf + xsdt + ACPI_HDR_LEN, base_gpa + fadt);
	put64(buf + xsdt + ACPI_HDR_LEN + 8, base_gpa + madt);
	acpi_seal(buf + xsdt);

	uint8_t *rsdp = buf;
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, ACPI_OEM_ID, 6);
	rsdp[15] = 2;                      /* ACPI 2.0+: use the XSDT */
	put32(rsdp + 20, 36);              /* length */
	put64(rsdp + 24, base_gpa + xsdt);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	return (int)end;
}
