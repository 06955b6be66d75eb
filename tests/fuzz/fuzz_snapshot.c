// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the snapshot loader's parts that read untrusted bytes.
 * The input is checked as a whole state file (snap_check), and also handed
 * as saved device state to a virtio device (virtio-blk over a scratch disk)
 * on a small guest RAM, the way a restore does: queue sizes and ring
 * addresses must be refused unless they fit that RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_guest.h"
#include "snapshot/snapfile.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

#define RAM_SIZE (64u << 10)

static uint8_t *ram;
static struct guest_mem mem;
static char disk[] = "/tmp/ign-fuzz-snapdisk-XXXXXX";

static void cleanup(void)
{
	unlink(disk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ign_err err;
	struct virtio_dev *d;
	unsigned n;

	if (!ram) {
		fuzz_guest_setup(&ram, &mem, RAM_SIZE, disk);
		atexit(cleanup);
	}
	snap_check(data, size, "fuzz", &n, &err);
	if (virtio_blk_create(disk, 0, &mem, &d, &err) < 0)
		abort();
	if (virtio_dev_restore(d, data, size, &err) == 0) {
		/* whatever was accepted must be safe to run */
		virtio_dev_kick(d, 0);
	}
	d->ops->destroy(d);
	return 0;
}
