// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: an untrusted guest's view of a virtio device. The input
 * becomes the guest's RAM (descriptor table, rings, requests) plus where the
 * driver placed the rings and how big it said they were; the target brings a
 * device up through the virtio-mmio registers and kicks its queue twice. Any
 * out-of-bounds access, overflow or hang is a bug (ASan/UBSan, libFuzzer's
 * timeout). (The rings are guest memory: the guest, or a device filling a
 * buffer that overlaps them, may overwrite them at any time, so their
 * contents afterwards prove nothing.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_guest.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"

#define RAM_SIZE (64u << 10)

static uint8_t *ram;
static struct guest_mem mem;
static char disk[] = "/tmp/ign-fuzz-disk-XXXXXX";

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ign_err err = { 0 };
	struct virtio_dev *d = NULL;

	if (!ram)
		fuzz_guest_setup(&ram, &mem, RAM_SIZE, disk);
	if (size < 10)
		return 0;
	unsigned kind = data[0] % 3;
	uint32_t qsize = 1u << (data[1] % 10);           /* 1..512: 512 is refused */
	uint32_t desc = get16(data + 2) * 2u, avail = get16(data + 4) * 2u, used = get16(data + 6) * 2u;
	uint16_t kick2 = get16(data + 8);
	data += 10, size -= 10;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);

	int r = kind == 2 ? virtio_rng_create(&mem, &d, &err)
			  : virtio_blk_create(disk, kind == 0, &mem, &d, &err);
	if (r < 0)
		abort();
	fuzz_bring_up(d, qsize, desc, avail, used);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* The guest moves its avail index arbitrarily and kicks again. */
	if (d->vq[0].avail) {
		__atomic_store_n(&d->vq[0].avail->idx, kick2, __ATOMIC_RELEASE);
		fuzz_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 7);  /* a queue that does not exist */
	d->ops->destroy(d);
	return 0;
}
