/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake guest for device unit tests with several queues: guest RAM is a
 * plain buffer, and a test "driver" brings the device `dev` up through the
 * virtio-mmio registers the way Linux's virtio_mmio does. Queue q's rings
 * sit at DESC(q), AVAIL(q), USED(q); each test places its own buffers.
 * Included by one test file each (the state below is per binary).
 */
#ifndef IGN_TEST_FAKE_DRIVER_H
#define IGN_TEST_FAKE_DRIVER_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/mmio.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 8
#define DESC(q)  (0x1000 + 0x3000 * (q))
#define AVAIL(q) (0x2000 + 0x3000 * (q))
#define USED(q)  (0x3000 + 0x3000 * (q))

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_dev *dev;

static struct virtq_desc *desc(unsigned q, unsigned i)
{
	return (struct virtq_desc *)(ram + DESC(q)) + i;
}
static struct virtq_avail *avail(unsigned q) { return (struct virtq_avail *)(ram + AVAIL(q)); }
static struct virtq_used *used(unsigned q) { return (struct virtq_used *)(ram + USED(q)); }

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_access(dev, off, 1, (uint8_t *)&v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v;

	virtio_mmio_access(dev, off, 0, (uint8_t *)&v, 4);
	return v;
}

static void fake_ram_setup(void)
{
	ram = aligned_alloc(4096, MEM_SIZE);
	memset(ram, 0, MEM_SIZE);
	guest_mem_layout(&mem, MEM_SIZE);
	mem.hva = ram;
}

/* Negotiates `features` (VERSION_1 added), enables nqueues queues, DRIVER_OK. */
static void fake_driver_up(uint64_t features, unsigned nqueues)
{
	features |= VIRTIO_F_VERSION_1;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nqueues; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL(q));
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED(q));
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

#endif
