/* SPDX-License-Identifier: Apache-2.0 */
/* The small guest the device fuzz targets share: RAM, and a scratch disk for virtio-blk. */
#ifndef IGN_FUZZ_GUEST_H
#define IGN_FUZZ_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mem.h"

/* size bytes of RAM at *ram, laid out in mem; a 16-sector disk made from template disk. */
static void fuzz_guest_setup(uint8_t **ram, struct guest_mem *mem, size_t size, char *disk)
{
	*ram = aligned_alloc(4096, size);
	guest_mem_layout(mem, size);
	mem->hva = *ram;
	int fd = mkstemp(disk);
	if (fd < 0 || ftruncate(fd, 16 * 512) < 0)
		abort();
	close(fd);
}

#endif
