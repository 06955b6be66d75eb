/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a guest can do to the VMM besides its devices (docs/vmm.md):
 *  - write a byte N to IGN_PORT_EXIT: the VMM stops and exits with status N;
 *  - write IGN_BOOT_MARKER_VALUE to IGN_PORT_BOOT_MARKER: "userspace is up"
 *    (Firecracker's convention, so its guest-side tooling works unchanged);
 *  - reboot (0xfe to the i8042 command port 0x64, kernel `reboot=k`) or ACPI
 *    poweroff: the VMM stops and exits with status 0.
 */
#ifndef IGN_GUEST_ABI_H
#define IGN_GUEST_ABI_H

#define IGN_PORT_EXIT          0x501
#define IGN_PORT_BOOT_MARKER   0x3f0
#define IGN_BOOT_MARKER_VALUE  123

#endif
