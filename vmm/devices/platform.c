// SPDX-License-Identifier: Apache-2.0
#include "platform.h"

#include <string.h>

#include "../arch/x86/acpi.h"
#include "ign/guest_abi.h"

#define I8042_DATA    0x60
#define I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe

static void i8042_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	(void)size;
	if (off == 0 && data[0] == I8042_CMD_RESET)
		p->stop(p->opaque, 0);
}

static void zero_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	(void)dev, (void)off;
	memset(data, 0, size);
}

static void exit_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	(void)off, (void)size;
	p->stop(p->opaque, data[0]);
}

static void marker_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	(void)off, (void)size;
	if (data[0] == IGN_BOOT_MARKER_VALUE && p->boot_marker)
		p->boot_marker(p->opaque);
}

/* ACPI sleep control: SLP_EN with \_S5's type is power-off; other states are ignored. */
static void sleep_ctl_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	(void)off, (void)size;
	if ((data[0] & X86_ACPI_SLP_EN) && X86_ACPI_SLP_TYP(data[0]) == X86_ACPI_S5_TYPE)
		p->stop(p->opaque, 0);
}

static void acpi_reset_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	(void)off, (void)size;
	if (data[0] == X86_ACPI_RESET_VALUE)
		p->stop(p->opaque, 0);
}

static void ignore_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	(void)dev, (void)off, (void)data, (void)size;
}

uint32_t platform_pci_config(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	if (bus || dev || fn)
		return 0xffffffff;  /* no device: master abort reads all ones */
	switch (reg) {
	case 0x00: return PCI_HOST_VENDOR | PCI_HOST_DEVICE << 16;
	case 0x08: return 0x06000000;  /* class: bridge, host; revision 0 */
	default:   return 0;            /* header type 0, no BARs, no capabilities */
	}
}

static void pci_addr_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	if (off == 0 && size == 4)  /* byte writes (0xcfb: mechanism #2 probe) are ignored */
		memcpy(&p->pci_address, data, 4);
}

static void pci_addr_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	struct platform *p = dev;

	if (off == 0 && size == 4)
		memcpy(data, &p->pci_address, 4);
	else
		memset(data, 0xff, size);
}

static void pci_data_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	struct platform *p = dev;
	uint32_t a = p->pci_address, v = 0xffffffff;

	if (a & 0x80000000u)
		v = platform_pci_config(a >> 16 & 0xff, a >> 11 & 0x1f, a >> 8 & 7, a & 0xfc);
	v >>= 8 * (off & 3);
	memset(data, 0xff, size);
	memcpy(data, &v, size <= 4 - (off & 3u) ? size : 4 - (off & 3u));
}

static const struct pio_ops i8042_cmd_ops = { "i8042", i8042_write, zero_read };
static const struct pio_ops i8042_data_ops = { "i8042-data", ignore_write, zero_read };
static const struct pio_ops exit_ops = { "ign-exit", exit_write, zero_read };
static const struct pio_ops sleep_ctl_ops = { "acpi-sleep-control", sleep_ctl_write, zero_read };
static const struct pio_ops sleep_sts_ops = { "acpi-sleep-status", ignore_write, zero_read };
static const struct pio_ops acpi_reset_ops = { "acpi-reset", acpi_reset_write, zero_read };
static const struct pio_ops pci_addr_ops = { "pci-config-address", pci_addr_write, pci_addr_read };
static const struct pio_ops pci_data_ops = { "pci-config-data", ignore_write, pci_data_read };
static const struct pio_ops marker_ops = { "boot-marker", marker_write, zero_read };

int platform_register(struct platform *p, struct pio_bus *bus)
{
	int r;

	if ((r = pio_bus_add(bus, I8042_COMMAND, 1, &i8042_cmd_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, I8042_DATA, 1, &i8042_data_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, IGN_PORT_EXIT, 1, &exit_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, IGN_PORT_BOOT_MARKER, 1, &marker_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, X86_ACPI_SLEEP_CTL_PORT, 1, &sleep_ctl_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, X86_ACPI_SLEEP_STS_PORT, 1, &sleep_sts_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, X86_ACPI_RESET_PORT, 1, &acpi_reset_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, PCI_CONFIG_ADDRESS, 4, &pci_addr_ops, p)) < 0 ||
	    (r = pio_bus_add(bus, PCI_CONFIG_DATA, 4, &pci_data_ops, p)) < 0)
		return r;
	return 0;
}
