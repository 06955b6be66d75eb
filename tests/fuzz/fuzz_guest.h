/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small guest the device fuzz targets share: RAM, a scratch disk for
 * virtio-blk, and a driver's bring-up of a device's first queue.
 */
#ifndef IGN_FUZZ_GUEST_H
#define IGN_FUZZ_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mem.h"
#include "virtio/mmio.h"

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

static inline void fuzz_wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_access(d, off, 1, (uint8_t *)&v, 4);
}

/* A driver's bring-up of queue 0 (VERSION_1, rings at the given addresses), then DRIVER_OK. */
static inline void fuzz_bring_up(struct virtio_dev *d, uint32_t qsize, uint32_t desc, uint32_t avail,
			  uint32_t used)
{
	fuzz_wr(d, VIRTIO_MMIO_STATUS, 0);
	fuzz_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	fuzz_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fuzz_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	fuzz_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		VIRTIO_STATUS_FEATURES_OK);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, avail);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, used);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	fuzz_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

#endif
