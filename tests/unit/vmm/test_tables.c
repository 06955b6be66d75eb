// SPDX-License-Identifier: Apache-2.0
/* MP table and ACPI tables: the checks Linux makes before trusting them. */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/mptable.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

#define BASE 0xf0000u

Test(mptable, checksums_and_entries)
{
	static uint8_t buf[4096];
	struct ign_err err = { 0 };

	for (unsigned ncpus = 1; ncpus <= 64; ncpus *= 4) {
		int n = x86_mptable_write(buf, sizeof(buf), BASE, ncpus, &err);
		cr_assert_eq((size_t)n, x86_mptable_size(ncpus), "%s", err.msg);
		cr_assert_eq(memcmp(buf, "_MP_", 4), 0);
		cr_assert_eq(sum(buf, 16), 0, "floating pointer checksum");
		cr_assert_eq(buf[9], 4, "MP spec 1.4");
		uint32_t table = rd32(buf + 4) - BASE;
		uint8_t *t = buf + table;
		cr_assert_eq(memcmp(t, "PCMP", 4), 0);
		uint16_t len = rd16(t + 4);
		cr_assert_eq(sum(t, len), 0, "config table checksum");
		cr_assert_eq(rd32(t + 36), X86_LAPIC_ADDR);

		/* walk the entries the way Linux does */
		uint8_t *e = t + 44;
		unsigned cpus = 0, bsp = 0, ioapics = 0, irqs = 0;
		for (unsigned i = 0; i < rd16(t + 34); i++) {
			switch (e[0]) {
			case 0:
				cr_assert_eq(e[1], cpus, "APIC IDs are the vCPU indexes");
				cpus++;
				bsp += !!(e[3] & 2);
				e += 20;
				break;
			case 2:
				ioapics++;
				cr_assert_eq(rd32(e + 4), X86_IOAPIC_ADDR);
				cr_assert_geq(e[1], ncpus, "IOAPIC ID clashes with a LAPIC");
				e += 8;
				break;
			case 3:
				cr_assert_eq(e[5], e[7], "ISA IRQ n goes to pin n");
				irqs++;
				e += 8;
				break;
			default:
				e += 8;
			}
		}
		cr_assert_eq(e, t + len);
		cr_assert_eq(cpus, ncpus);
		cr_assert_eq(bsp, 1);
		cr_assert_eq(ioapics, 1);
		cr_assert_eq(irqs, 16);
	}
}

Test(mptable, refuses_small_buffer_and_bad_counts)
{
	uint8_t buf[64];
	struct ign_err err = { 0 };

	cr_assert_lt(x86_mptable_write(buf, sizeof(buf), BASE, 1, &err), 0);
	cr_assert(strstr(err.msg, "needs"), "%s", err.msg);
	cr_assert_lt(x86_mptable_write(buf, sizeof(buf), BASE, 0, &err), 0);
	cr_assert_lt(x86_mptable_write(buf, sizeof(buf), BASE, 255, &err), 0);
}

#define ABASE X86_ACPI_START

static uint8_t *table_at(uint8_t *buf, uint64_t gpa)
{
	cr_assert_geq(gpa, ABASE);
	cr_assert_lt(gpa, ABASE + X86_ACPI_SIZE);
	uint8_t *t = buf + (gpa - ABASE);
	cr_assert_eq(sum(t, rd32(t + 4)), 0, "table %.4s checksum", (char *)t);
	return t;
}

/* Decodes an AML PkgLength at p; *n gets its own size. Returns the package length. */
static unsigned pkglen(const uint8_t *p, unsigned *n)
{
	*n = 1 + (p[0] >> 6);
	if (*n == 1)
		return p[0] & 0x3f;
	unsigned v = p[0] & 15;
	for (unsigned i = 1; i < *n; i++)
		v |= (unsigned)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* The resource bytes of a device's Name (_CRS, Buffer (...)), checking the lengths. */
static const uint8_t *crs_of(const uint8_t *dev, const uint8_t *dev_end)
{
	const uint8_t *crs = memmem(dev, dev_end - dev, "_CRS", 4);
	cr_assert_not_null(crs);
	cr_assert_eq(crs[4], 0x11, "BufferOp");
	cr_assert_eq(crs + 5 + crs[5], dev_end, "buffer ends with its device");
	cr_assert_eq(crs[6], 0x0a);
	cr_assert_eq(crs[7], dev_end - (crs + 8), "buffer size matches its bytes");
	return crs + 8;
}

Test(acpi, rsdp_xsdt_fadt_dsdt_madt)
{
	const struct x86_acpi_mmio_dev devs[2] = {
		{ 0xd0000000, 0x1000, 5 }, { 0xd0001000, 0x1000, 17 },
	};
	static uint8_t buf[X86_ACPI_SIZE];
	struct ign_err err = { 0 };
	const unsigned ncpus = 3;

	cr_assert_gt(x86_acpi_write(buf, sizeof(buf), ABASE, ncpus, devs, 2, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(buf, "RSD PTR ", 8), 0);
	cr_assert_eq(sum(buf, 20), 0, "RSDP v1 checksum");
	cr_assert_eq(sum(buf, 36), 0, "RSDP extended checksum");
	cr_assert_eq(buf[15], 2);

	uint8_t *xsdt = table_at(buf, rd64(buf + 24));
	cr_assert_eq(memcmp(xsdt, "XSDT", 4), 0);
	cr_assert_eq(rd32(xsdt + 4), 36 + 16);
	uint8_t *fadt = table_at(buf, rd64(xsdt + 36));
	uint8_t *madt = table_at(buf, rd64(xsdt + 44));
	cr_assert_eq(memcmp(fadt, "FACP", 4), 0);
	cr_assert_eq(memcmp(madt, "APIC", 4), 0);

	cr_assert_eq(rd32(fadt + 4), 276);
	cr_assert(rd32(fadt + 112) & (1u << 20), "HW_REDUCED_ACPI");
	cr_assert_eq(fadt[244], 1, "sleep control is in I/O space");
	cr_assert_eq(rd64(fadt + 248), X86_ACPI_SLEEP_CTL_PORT);
	cr_assert_eq(rd64(fadt + 120), X86_ACPI_RESET_PORT);
	cr_assert_eq(fadt[128], X86_ACPI_RESET_VALUE);

	uint8_t *dsdt = table_at(buf, rd64(fadt + 140));
	cr_assert_eq(rd32(fadt + 40), rd64(fadt + 140));
	cr_assert_eq(memcmp(dsdt, "DSDT", 4), 0);
	const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12 };
	cr_assert_eq(memcmp(dsdt + 36, s5, sizeof(s5)), 0, "DSDT defines \\_S5");
	cr_assert_eq(dsdt[36 + 9], X86_ACPI_S5_TYPE);
	cr_assert_eq(sum(dsdt, rd32(dsdt + 4)), 0, "DSDT checksum");

	/* Scope (\\_SB) { Device (COM1) ... Device (V000) ... Device (V001) ... }:
	 * every package length must end exactly where its contents end. */
	const uint8_t *scope = dsdt + 36 + 11, *end = dsdt + rd32(dsdt + 4);
	cr_assert_eq(scope[0], 0x10, "ScopeOp");
	unsigned sl;
	const uint8_t *scope_end = scope + 1 + pkglen(scope + 1, &sl);
	cr_assert_eq(scope_end, end, "scope package ends at the table end");
	cr_assert_eq(memcmp(scope + 1 + sl, "\\_SB_", 5), 0);
	const uint8_t *dev = scope + 1 + sl + 5;
	cr_assert_eq(dev[0], 0x5b);
	cr_assert_eq(dev[1], 0x82, "DeviceOp");
	cr_assert_eq(memcmp(dev + 3, "COM1", 4), 0);
	const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	cr_assert_eq(memcmp(dev + 7, hid, sizeof(hid)), 0, "_HID is EisaId PNP0501");
	const uint8_t *res = crs_of(dev, dev + 2 + dev[2]);
	cr_assert_eq(res[0], 0x47, "I/O port descriptor");
	cr_assert_eq(res[2] | res[3] << 8, 0x3f8);
	cr_assert_eq(res[7], 8, "eight ports");
	cr_assert_eq(res[8], 0x22, "IRQ descriptor");
	cr_assert_eq(res[9] | res[10] << 8, 1u << 4, "IRQ 4");
	cr_assert_eq(res[11], 0x79, "end tag");

	dev += 2 + dev[2];
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(dev[0], 0x5b);
		cr_assert_eq(dev[1], 0x82, "DeviceOp");
		const uint8_t *dev_end = dev + 2 + dev[2];
		cr_assert_leq(dev_end, end);
		char name[5] = { 0 };
		memcpy(name, dev + 3, 4);
		cr_assert_str_eq(name, i ? "V001" : "V000");
		cr_assert_not_null(memmem(dev, dev_end - dev, "_HID\x0dLNRO0005", 13),
				   "virtio-mmio's ACPI id");
		res = crs_of(dev, dev_end);
		cr_assert_eq(res[0], 0x86, "Memory32Fixed");
		cr_assert_eq(rd32(res + 4), devs[i].base);
		cr_assert_eq(rd32(res + 8), devs[i].size);
		cr_assert_eq(res[12], 0x89, "extended interrupt");
		cr_assert_eq(res[15] & 3, 3, "consumer, edge-triggered");
		cr_assert_eq(res[16], 1, "one interrupt");
		cr_assert_eq(rd32(res + 17), devs[i].gsi);
		cr_assert_eq(res[21], 0x79, "end tag");
		dev = dev_end;
	}
	cr_assert_eq(dev, end, "nothing after the last device");

	unsigned lapics = 0, ioapics = 0, overrides = 0;
	for (uint8_t *e = madt + 44; e < madt + rd32(madt + 4); e += e[1]) {
		cr_assert_gt(e[1], 0);
		if (e[0] == 0) {
			cr_assert_eq(e[3], lapics);
			lapics++;
		}
		ioapics += e[0] == 1;
		if (e[0] == 2) {
			cr_assert_eq(e[1], 10);
			cr_assert_eq(rd32(e + 4), e[3], "ISA IRQ n is GSI n");
			overrides++;
		}
	}
	cr_assert_eq(lapics, ncpus);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(overrides, 15, "ISA IRQs 1-15 mapped for a PIC-less guest");
}

Test(acpi, refuses_small_buffer)
{
	uint8_t buf[256];
	struct ign_err err = { 0 };

	cr_assert_lt(x86_acpi_write(buf, sizeof(buf), ABASE, 4, NULL, 0, &err), 0);
	cr_assert(strstr(err.msg, "do not fit"), "%s", err.msg);
}
