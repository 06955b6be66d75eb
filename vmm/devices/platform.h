/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few PC platform ports a microVM needs besides its console:
 *  - i8042 (0x60, 0x64): only the reset command 0xfe, Linux's `reboot=k`;
 *    status reads 0 so the kernel's "input buffer empty" wait ends at once;
 *  - ACPI sleep control and reset registers (arch/x86/acpi.h): power-off, reset;
 *  - the ign exit port and the boot-marker port (include/ign/guest_abi.h);
 *  - PCI configuration mechanism #1 (0xcf8/0xcfc) with only a host bridge at
 *    00:00.0: the guest's PCI core finds a sane, empty bus instead of logging
 *    "PCI: Fatal: No config space access function found" (x86 ACPI needs
 *    CONFIG_PCI, the VM has no PCI devices).
 */
#ifndef IGN_PLATFORM_H
#define IGN_PLATFORM_H

#include "pio.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_HOST_VENDOR    0x1b36   /* Red Hat, Inc. (QEMU's virtual devices) */
#define PCI_HOST_DEVICE    0x0008   /* generic PCIe host bridge */

struct platform {
	uint32_t pci_address;   /* last value written to 0xcf8 */
	void (*stop)(void *opaque, int status);  /* guest ended: exit status */
	void (*boot_marker)(void *opaque);
	void *opaque;
};

int platform_register(struct platform *p, struct pio_bus *bus);

/* The 32-bit configuration register at offset reg (dword-aligned) of bus:dev.fn. */
uint32_t platform_pci_config(unsigned bus, unsigned dev, unsigned fn, unsigned reg);

#endif
