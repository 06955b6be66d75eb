/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few PC platform ports a microVM needs besides its console:
 *  - i8042 (0x60, 0x64): only the reset command 0xfe, Linux's `reboot=k`;
 *    status reads 0 so the kernel's "input buffer empty" wait ends at once;
 *  - ACPI sleep control and reset registers (arch/x86/acpi.h): power-off, reset;
 *  - the ign exit port and the boot-marker port (include/ign/guest_abi.h).
 */
#ifndef IGN_PLATFORM_H
#define IGN_PLATFORM_H

#include "pio.h"

struct platform {
	void (*stop)(void *opaque, int status);  /* guest ended: exit status */
	void (*boot_marker)(void *opaque);
	void *opaque;
};

int platform_register(struct platform *p, struct pio_bus *bus);

#endif
