// SPDX-License-Identifier: Apache-2.0
/*
 * Writes fuzz_snapshot's seeds (tests/fuzz/mkseeds.py builds and runs it):
 * a virtio-blk device brought up the way a guest driver does and served one
 * request, saved with the real save code, as a bare device section (what
 * virtio_dev_restore reads) and inside a whole state file (what snap_check
 * reads). usage: seed_snapshot OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_guest.h"
#include "snapshot/snapfile.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

#define RAM_SIZE (64u << 10)

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

int main(int argc, char **argv)
{
	static char disk[] = "/tmp/ign-seed-disk-XXXXXX";
	struct snap_buf dev = { 0 }, file = { 0 };
	struct guest_mem mem;
	struct virtio_dev *d;
	struct ign_err err;
	uint8_t *ram;
	char path[4096];

	if (argc != 2)
		return 2;
	fuzz_guest_setup(&ram, &mem, RAM_SIZE, disk);
	memset(ram, 0, RAM_SIZE);
	/* one read request: header at 0x1000, 512 bytes at 0x2000, status at 0x3000 */
	put_le(ram + 0x0, 0x1000, 8), put_le(ram + 0x8, 16, 4), put_le(ram + 0xc, 1, 2), put_le(ram + 0xe, 1, 2);
	put_le(ram + 0x10, 0x2000, 8), put_le(ram + 0x18, 512, 4), put_le(ram + 0x1c, 3, 2), put_le(ram + 0x1e, 2, 2);
	put_le(ram + 0x20, 0x3000, 8), put_le(ram + 0x28, 1, 4), put_le(ram + 0x2c, 2, 2);
	put_le(ram + 0x402, 1, 2);
	if (virtio_blk_create(disk, 0, &mem, &d, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	fuzz_bring_up(d, 16, 0, 0x400, 0x800);
	fuzz_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	if (virtio_dev_save(d, &dev, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	snprintf(path, sizeof(path), "%s/blk-device", argv[1]);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(dev.p, 1, dev.len, f) != dev.len || fclose(f))
		return perror(path), 1;
	static const char meta[] = "vmm=seed\nvcpus=1\nmem=65536\n";
	snap_begin(&file);
	snap_section(&file, SNAP_META, meta, sizeof(meta) - 1);
	snap_section(&file, SNAP_VIRTIO, dev.p, dev.len);
	snprintf(path, sizeof(path), "%s/state-file", argv[1]);
	if (snap_commit(&file, path, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	d->ops->destroy(d);
	unlink(disk);
	return 0;
}
