/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest RAM: one host mapping, split around the 32-bit MMIO hole.
 *   [0, low)            at hva
 *   [4 GiB, 4 GiB+high) at hva + low
 * guest_mem_ptr() is the only way device and boot code turn a guest address
 * into a host pointer; it refuses any range not wholly inside one RAM region.
 */
#ifndef IGN_VMM_MEM_H
#define IGN_VMM_MEM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t;

#define MEM_32BIT_GAP_START 0xc0000000ULL  /* 3 GiB: IOAPIC, LAPIC, virtio-mmio live above */
#define MEM_4G              0x100000000ULL

struct guest_mem {
	uint8_t *hva;
	uint64_t size;       /* total bytes */
	uint64_t low_size;   /* bytes below MEM_32BIT_GAP_START */
	uint64_t high_size;  /* bytes from MEM_4G up */
};

void guest_mem_layout(struct guest_mem *m, uint64_t size);
void *guest_mem_ptr(const struct guest_mem *m, gpa_t gpa, uint64_t len);

#endif
