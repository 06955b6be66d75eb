// SPDX-License-Identifier: Apache-2.0
/*
 * MP table layout: [floating pointer 16 B][config header 44 B][entries...].
 * Entries: one processor per vCPU (APIC ID = vCPU index, vCPU 0 the BSP),
 * one ISA bus, one IOAPIC (ID = ncpus so it clashes with no LAPIC), ISA IRQ n
 * to IOAPIC pin n, ExtINT on LINT0 and NMI on LINT1 of every LAPIC.
 */
#include "mptable.h"

#include <errno.h>
#include <string.h>

struct mpf_intel {
	char signature[4];      /* "_MP_" */
	uint32_t physptr;
	uint8_t length;         /* in 16-byte units */
	uint8_t specification;  /* 4: version 1.4 */
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];      /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_IRQ_INT, MP_IRQ_NMI, MP_IRQ_SMI, MP_IRQ_EXTINT };
#define CPU_ENABLED 1
#define CPU_BSP     2
#define APIC_VERSION 0x14
#define MP_ALL_APICS 0xff

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer is 16 bytes");
_Static_assert(sizeof(struct mpc_table) == 44, "MP config header is 44 bytes");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry is 20 bytes");

static uint8_t mp_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

size_t x86_mptable_size(unsigned ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (X86_ISA_IRQS + 2) * sizeof(struct mpc_intsrc);
}

int x86_mptable_write(uint8_t *buf, size_t buflen, uint32_t base_gpa, unsigned ncpus,
		      struct ign_err *err)
{
	size_t size = x86_mptable_size(ncpus);

	if (ncpus == 0 || ncpus >= MP_ALL_APICS)
		return ign_err_setx(err, EINVAL, "MP table: %u CPUs is out of range", ncpus);
	if (size > buflen)
		return ign_err_setx(err, ENOSPC, "MP table for %u CPUs needs %zu bytes, have %zu",
				    ncpus, size, buflen);
	memset(buf, 0, size);

	struct mpf_intel *mpf = (struct mpf_intel *)buf;
	struct mpc_table *mpc = (struct mpc_table *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint16_t count = 0;
	const uint8_t ioapic_id = ncpus;

	for (unsigned i = 0; i < ncpus; i++, count++, p += sizeof(struct mpc_cpu)) {
		struct mpc_cpu *c = (struct mpc_cpu *)p;
		c->type = MP_PROCESSOR;
		c->apicid = i;
		c->apicver = APIC_VERSION;
		c->cpuflag = CPU_ENABLED | (i == 0 ? CPU_BSP : 0);
		c->cpufeature = 0x600;     /* family 6: a modern CPU; Linux reads CPUID anyway */
		c->featureflag = 0x201;    /* FPU | APIC */
	}
	struct mpc_bus *bus = (struct mpc_bus *)p;
	bus->type = MP_BUS;
	memcpy(bus->bustype, "ISA   ", 6);
	p += sizeof(*bus), count++;

	struct mpc_ioapic *io = (struct mpc_ioapic *)p;
	io->type = MP_IOAPIC;
	io->apicid = ioapic_id;
	io->apicver = 0x11;
	io->flags = 1;  /* enabled */
	io->apicaddr = X86_IOAPIC_ADDR;
	p += sizeof(*io), count++;

	for (unsigned irq = 0; irq < X86_ISA_IRQS; irq++, count++, p += sizeof(struct mpc_intsrc)) {
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;
		s->type = MP_INTSRC;
		s->irqtype = MP_IRQ_INT;
		s->srcbusirq = irq;
		s->dstapic = ioapic_id;
		s->dstirq = irq;
	}
	const uint8_t lint_kind[2] = { MP_IRQ_EXTINT, MP_IRQ_NMI };
	for (unsigned pin = 0; pin < 2; pin++, count++, p += sizeof(struct mpc_intsrc)) {
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;
		s->type = MP_LINTSRC;
		s->irqtype = lint_kind[pin];
		s->dstapic = MP_ALL_APICS;
		s->dstirq = pin;
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "IGNVMM  ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = count;
	mpc->lapic = X86_LAPIC_ADDR;
	mpc->checksum = mp_checksum((uint8_t *)mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = base_gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = mp_checksum((uint8_t *)mpf, sizeof(*mpf));
	return (int)size;
}
