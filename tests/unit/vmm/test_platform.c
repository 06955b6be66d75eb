// SPDX-License-Identifier: Apache-2.0
/* The platform ports through the port I/O bus: exit, reset, ACPI power-off, PCI config. */
#include <criterion/criterion.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "devices/pio.h"
#include "devices/platform.h"
#include "ign/guest_abi.h"

static int stops, last_status;

static void on_stop(void *opaque, int status)
{
	(void)opaque;
	stops++;
	last_status = status;
}

static struct pio_bus bus;
static struct platform plat;

static void setup(void)
{
	stops = 0;
	last_status = -1;
	pio_bus_init(&bus);
	memset(&plat, 0, sizeof(plat));
	plat.stop = on_stop;
	cr_assert_eq(platform_register(&plat, &bus), 0);
}

static void outb(uint16_t port, uint8_t v) { pio_bus_access(&bus, port, 1, &v, 1); }
static void outl(uint16_t port, uint32_t v) { pio_bus_access(&bus, port, 1, (uint8_t *)&v, 4); }

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;

	pio_bus_access(&bus, port, 0, (uint8_t *)&v, size);
	return v;
}

TestSuite(platform, .init = setup);

Test(platform, exit_port_carries_the_guest_status)
{
	outb(IGN_PORT_EXIT, 42);
	cr_assert_eq(stops, 1);
	cr_assert_eq(last_status, 42);
}

Test(platform, i8042_reset_only_on_0xfe)
{
	outb(0x64, 0xd1);
	cr_assert_eq(stops, 0);
	cr_assert_eq(in(0x64, 1), 0, "status: input buffer empty");
	outb(0x64, 0xfe);
	cr_assert_eq(stops, 1);
	cr_assert_eq(last_status, 0);
}

Test(platform, acpi_sleep_s5_powers_off_other_states_do_not)
{
	outb(X86_ACPI_SLEEP_CTL_PORT, 3 << 2 | X86_ACPI_SLP_EN);  /* S3: ignored */
	outb(X86_ACPI_SLEEP_CTL_PORT, X86_ACPI_S5_TYPE << 2);      /* no SLP_EN */
	cr_assert_eq(stops, 0);
	outb(X86_ACPI_SLEEP_CTL_PORT, X86_ACPI_S5_TYPE << 2 | X86_ACPI_SLP_EN);
	cr_assert_eq(stops, 1);
	cr_assert_eq(last_status, 0);
}

Test(platform, pci_host_bridge_alone_on_bus_0)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000);
	cr_assert_eq(in(PCI_CONFIG_ADDRESS, 4), 0x80000000, "address latch reads back");
	cr_assert_eq(in(PCI_CONFIG_DATA, 4), PCI_HOST_VENDOR | PCI_HOST_DEVICE << 16);
	cr_assert_eq(in(PCI_CONFIG_DATA, 2), PCI_HOST_VENDOR);
	cr_assert_eq(in(PCI_CONFIG_DATA + 2, 2), PCI_HOST_DEVICE);

	outl(PCI_CONFIG_ADDRESS, 0x80000008);
	cr_assert_eq(in(PCI_CONFIG_DATA + 2, 2), 0x0600, "class: host bridge");
	cr_assert_eq(in(PCI_CONFIG_DATA + 3, 1), 0x06);

	outl(PCI_CONFIG_ADDRESS, 0x80000800);  /* 00:01.0 */
	cr_assert_eq(in(PCI_CONFIG_DATA, 4), 0xffffffff, "no device");
	outl(PCI_CONFIG_ADDRESS, 0x80010000);  /* bus 1 */
	cr_assert_eq(in(PCI_CONFIG_DATA, 2), 0xffff);
	outl(PCI_CONFIG_ADDRESS, 0x00000000);  /* enable bit clear */
	cr_assert_eq(in(PCI_CONFIG_DATA, 4), 0xffffffff);

	outb(PCI_CONFIG_ADDRESS + 3, 0x01);    /* mechanism #2 probe: ignored */
	cr_assert_eq(in(PCI_CONFIG_ADDRESS, 4), 0, "latch unchanged by a byte write");
	cr_assert_eq(stops, 0);
}
