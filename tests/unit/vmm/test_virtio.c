// SPDX-License-Identifier: Apache-2.0
/*
 * Virtqueues, the virtio-mmio transport and the blk/rng devices against a
 * fake guest: a plain buffer as guest RAM and a test "driver" that writes
 * rings and registers the way Linux's virtio_mmio does.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "snapshot/snapfile.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"
#include "virtio/rng.h"

#define MEM_SIZE (1u << 20)
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define DATA  0x10000
#define QSIZE 8

static uint8_t *ram;
static struct guest_mem mem;

static void ram_setup(void)
{
	ram = aligned_alloc(4096, MEM_SIZE);
	memset(ram, 0, MEM_SIZE);
	guest_mem_layout(&mem, MEM_SIZE);
	mem.hva = ram;
}

static void ram_teardown(void)
{
	free(ram);
}

static struct virtq_desc *desc(unsigned i) { return (struct virtq_desc *)(ram + DESC) + i; }
static struct virtq_avail *avail(void) { return (struct virtq_avail *)(ram + AVAIL); }
static struct virtq_used *used(void) { return (struct virtq_used *)(ram + USED); }

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct virtq_desc){ addr, len, flags, next };
}

/* Publishes head in the next avail slot. */
static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static void queue_init(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
	q->max_size = 256;
	q->size = QSIZE;
	q->desc_gpa = DESC, q->avail_gpa = AVAIL, q->used_gpa = USED;
	q->ready = 1;
}

TestSuite(virtq, .init = ram_setup, .fini = ram_teardown);

Test(virtq, pops_a_chain_and_pushes_it_back)
{
	struct virtq q;
	struct virtq_chain c;
	struct ign_err err = { 0 };

	queue_init(&q);
	cr_assert_eq(virtq_activate(&q, &mem, &err), 0, "%s", err.msg);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 0, "empty ring");

	set_desc(3, DATA, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, DATA + 0x100, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 6);
	set_desc(6, DATA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 1, "%s", err.msg);
	cr_assert_eq(c.head, 3);
	cr_assert_eq(c.n_out, 1);
	cr_assert_eq(c.n_in, 2);
	cr_assert_eq(c.out_len, 16);
	cr_assert_eq(c.in_len, 101);
	cr_assert_eq(c.iov[0].iov_base, ram + DATA);
	cr_assert_eq(c.iov[1].iov_base, ram + DATA + 0x100);
	cr_assert_eq(c.iov[2].iov_len, 1);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 0, "consumed");

	virtq_push(&q, 3, 101);
	cr_assert_eq(used()->idx, 1);
	cr_assert_eq(used()->ring[0].id, 3);
	cr_assert_eq(used()->ring[0].len, 101);
	cr_assert(virtq_wants_interrupt(&q));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	cr_assert_not(virtq_wants_interrupt(&q));
}

Test(virtq, ring_index_wraps_at_65536)
{
	struct virtq q;
	struct virtq_chain c;
	struct ign_err err = { 0 };

	queue_init(&q);
	cr_assert_eq(virtq_activate(&q, &mem, &err), 0);
	q.last_avail = 0xffff;
	avail()->idx = 0xffff;
	set_desc(0, DATA, 8, 0, 0);
	offer(0);
	offer(0);
	cr_assert_eq(avail()->idx, 1);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 1, "%s", err.msg);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 1, "%s", err.msg);
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 0);
}

/* Each malformed ring is refused with an error and leaves the queue where it was. */
static void expect_malformed(struct virtq *q, const char *what)
{
	struct virtq_chain c;
	struct ign_err err = { 0 };
	uint16_t before = q->last_avail;

	cr_assert_lt(virtq_pop(q, &mem, &c, &err), 0, "%s accepted", what);
	cr_assert_neq(err.msg[0], 0, "%s: no message", what);
	cr_assert_eq(q->last_avail, before, "%s: queue moved", what);
}

Test(virtq, refuses_malformed_rings)
{
	struct virtq q;
	struct ign_err err = { 0 };

	queue_init(&q);
	cr_assert_eq(virtq_activate(&q, &mem, &err), 0);

	avail()->idx = QSIZE + 1;  /* more pending than the ring holds */
	expect_malformed(&q, "avail index too far ahead");
	avail()->idx = 0;

	offer(QSIZE);  /* head out of range */
	expect_malformed(&q, "head out of range");
	avail()->ring[0] = 0;

	set_desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	expect_malformed(&q, "next out of range");

	set_desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	expect_malformed(&q, "descriptor loop");

	set_desc(0, MEM_SIZE - 4, 8, 0, 0);
	expect_malformed(&q, "buffer past the end of RAM");
	set_desc(0, ~0ULL - 2, 8, 0, 0);
	expect_malformed(&q, "address that overflows");
	set_desc(0, 0xc0000000ULL, 1, 0, 0);
	expect_malformed(&q, "address in the MMIO hole");

	set_desc(0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 8, 0, 0);
	expect_malformed(&q, "readable after writable");

	set_desc(0, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_malformed(&q, "indirect descriptor");

	set_desc(0, DATA, 8, 0, 0);
	struct virtq_chain c;
	cr_assert_eq(virtq_pop(&q, &mem, &c, &err), 1, "a good chain still works: %s", err.msg);
}

Test(virtq, refuses_bad_ring_setup)
{
	struct virtq q;
	struct ign_err err = { 0 };

	queue_init(&q);
	q.size = 6;
	cr_assert_lt(virtq_activate(&q, &mem, &err), 0, "size not a power of two");
	q.size = 512;
	cr_assert_lt(virtq_activate(&q, &mem, &err), 0, "size over QueueNumMax");
	q.size = QSIZE;
	q.desc_gpa = DESC + 8;
	cr_assert_lt(virtq_activate(&q, &mem, &err), 0, "misaligned descriptor table");
	q.desc_gpa = MEM_SIZE - 16;
	cr_assert_lt(virtq_activate(&q, &mem, &err), 0, "table past the end of RAM");
	cr_assert(strstr(err.msg, "outside guest memory"), "%s", err.msg);
}

Test(virtq, iov_helpers_stay_inside_the_chain)
{
	uint8_t a[4] = { 1, 2, 3, 4 }, b[3] = { 5, 6, 7 }, out[10];
	struct iovec iov[2] = { { a, 4 }, { b, 3 } }, s[2];

	cr_assert_eq(iov_to_buf(iov, 2, 2, out, sizeof(out)), 5);
	cr_assert_eq(out[0], 3);
	cr_assert_eq(out[4], 7);
	cr_assert_eq(iov_slice(iov, 2, 3, 2, s, 2), 2);
	cr_assert_eq(*(uint8_t *)s[0].iov_base, 4);
	cr_assert_eq(s[1].iov_len, 1);
	uint8_t z[9] = { 0 };
	cr_assert_eq(iov_from_buf(iov, 2, 1, z, sizeof(z)), 6);
	cr_assert_eq(a[0], 1);
	cr_assert_eq(b[2], 0);
}

/* ---- transport + devices ---- */

static uint32_t rd(struct virtio_dev *d, uint32_t off)
{
	uint32_t v;

	virtio_mmio_access(d, off, 0, (uint8_t *)&v, 4);
	return v;
}

static void wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_access(d, off, 1, (uint8_t *)&v, 4);
}

/* The Linux driver's bring-up: reset, features, queue 0, DRIVER_OK. */
static void driver_up(struct virtio_dev *d, uint64_t features)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, "features refused");
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_geq(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	memset(ram + AVAIL, 0, 0x1000);
	memset(ram + USED, 0, 0x1000);
}

static char disk_path[] = "/tmp/ign-test-disk-XXXXXX";

static void make_disk(void)
{
	int fd = mkstemp(disk_path);
	uint8_t sector[512];

	cr_assert_geq(fd, 0);
	for (unsigned s = 0; s < 8; s++) {
		memset(sector, 'a' + s, sizeof(sector));
		cr_assert_eq(write(fd, sector, sizeof(sector)), (ssize_t)sizeof(sector));
	}
	close(fd);
}

struct blk_hdr { uint32_t type, reserved; uint64_t sector; };

/* One request: header at DATA, data at DATA+0x1000 (len bytes), status at DATA+0x3000. */
static void blk_submit(struct virtio_dev *d, uint32_t type, uint64_t sector, uint32_t len,
		       int data_writable)
{
	struct blk_hdr h = { type, 0, sector };
	uint16_t next = 1;

	memcpy(ram + DATA, &h, sizeof(h));
	ram[DATA + 0x3000] = 0xee;
	set_desc(0, DATA, sizeof(h), VIRTQ_DESC_F_NEXT, 1);
	if (len) {
		set_desc(1, DATA + 0x1000, len, VIRTQ_DESC_F_NEXT |
			 (data_writable ? VIRTQ_DESC_F_WRITE : 0), 2);
		next = 2;
	}
	set_desc(next, DATA + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(0)->next = 1;
	offer(0);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static uint8_t blk_status(void) { return ram[DATA + 0x3000]; }

TestSuite(blk, .init = ram_setup, .fini = ram_teardown);

Test(blk, transport_identity_and_features)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };

	make_disk();
	cr_assert_eq(virtio_blk_create(disk_path, 1, &mem, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	cr_assert_eq(rd(d, VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	cr_assert(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	cr_assert_eq(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_FLUSH), 0);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert_eq(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 1, "VERSION_1");
	uint32_t cap;
	virtio_mmio_access(d, VIRTIO_MMIO_CONFIG, 0, (uint8_t *)&cap, 4);
	cr_assert_eq(cap, 8, "capacity in sectors");

	/* A legacy driver (no VERSION_1) or an unoffered feature is refused. */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_RO);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0, "legacy driver");
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1 | 2);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0, "unoffered bit");
	d->ops->destroy(d);
	unlink(disk_path);
}

Test(blk, read_write_flush_id_and_errors)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };
	uint64_t ev;

	make_disk();
	cr_assert_eq(virtio_blk_create(disk_path, 0, &mem, &d, &err), 0, "%s", err.msg);
	d->irqfd = eventfd(0, EFD_NONBLOCK);
	driver_up(d, VIRTIO_F_VERSION_1 | 1u << VIRTIO_BLK_F_FLUSH);

	blk_submit(d, VIRTIO_BLK_T_IN, 2, 1024, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[DATA + 0x1000], 'c', "sector 2");
	cr_assert_eq(ram[DATA + 0x1000 + 1023], 'd', "sector 3");
	cr_assert_eq(used()->idx, 1);
	cr_assert_eq(used()->ring[0].len, 1025, "data + status");
	cr_assert_eq(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_USED, VIRTIO_INT_USED);
	cr_assert_eq(read(d->irqfd, &ev, sizeof(ev)), 8, "irqfd signalled");
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED);
	cr_assert_eq(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	memset(ram + DATA + 0x1000, 'Z', 512);
	blk_submit(d, VIRTIO_BLK_T_OUT, 7, 512, 0);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	blk_submit(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	char c;
	int fd = open(disk_path, O_RDONLY);
	cr_assert_eq(pread(fd, &c, 1, 7 * 512 + 100), 1);
	cr_assert_eq(c, 'Z', "write reached the file");
	close(fd);

	blk_submit(d, VIRTIO_BLK_T_IN, 7, 1024, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_IOERR, "read past the end");
	blk_submit(d, VIRTIO_BLK_T_IN, ~0ULL / 256, 512, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_IOERR, "sector * 512 overflows");
	blk_submit(d, VIRTIO_BLK_T_IN, 0, 100, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_IOERR, "not a whole sector");
	blk_submit(d, 99, 0, 0, 0);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_UNSUPP);
	blk_submit(d, VIRTIO_BLK_T_GET_ID, 0, 20, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(ram + DATA + 0x1000, "ign", 3), 0, "device id");
	cr_assert_eq(used()->idx, 8);

	close(d->irqfd);
	d->ops->destroy(d);
	unlink(disk_path);
}

/* A warm base's empty disk slot, saved with its driver up, restored with a real disk. */
Test(blk, empty_slot_is_filled_at_restore)
{
	struct virtio_dev *slot, *d, *other;
	struct snap_buf b = { 0 };
	struct ign_err err = { 0 };
	uint32_t cap = 1;
	uint64_t ev;

	make_disk();
	cr_assert_eq(virtio_blk_create(NULL, 1, &mem, &slot, &err), 0, "%s", err.msg);
	driver_up(slot, VIRTIO_F_VERSION_1 | 1u << VIRTIO_BLK_F_RO);
	virtio_mmio_access(slot, VIRTIO_MMIO_CONFIG, 0, (uint8_t *)&cap, 4);
	cr_assert_eq(cap, 0, "an empty slot has no sectors");
	blk_submit(slot, VIRTIO_BLK_T_IN, 0, 512, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_IOERR, "nothing to read");
	cr_assert_eq(virtio_dev_save(slot, &b, &err), 0, "%s", err.msg);
	uint32_t gen = rd(slot, VIRTIO_MMIO_CONFIG_GENERATION);

	cr_assert_eq(virtio_blk_create(disk_path, 1, &mem, &d, &err), 0, "%s", err.msg);
	d->irqfd = eventfd(0, EFD_NONBLOCK);
	cr_assert_eq(virtio_dev_restore(d, b.p, b.len, &err), 0, "%s", err.msg);
	cr_assert(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG, "config change");
	cr_assert_eq(read(d->irqfd, &ev, sizeof(ev)), 8, "interrupt raised");
	cr_assert_neq(rd(d, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	virtio_mmio_access(d, VIRTIO_MMIO_CONFIG, 0, (uint8_t *)&cap, 4);
	cr_assert_eq(cap, 8, "the new disk's sectors");
	blk_submit(d, VIRTIO_BLK_T_IN, 2, 512, 1);  /* the queue the slot's driver set up */
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[DATA + 0x1000], 'c', "sector 2 of the new disk");

	/* A slot is filled only in its mode; a full disk is not swapped for another. */
	cr_assert_eq(virtio_blk_create(disk_path, 0, &mem, &other, &err), 0, "%s", err.msg);
	cr_assert_lt(virtio_dev_restore(other, b.p, b.len, &err), 0, "read-write into read-only");
	other->ops->destroy(other);
	snap_buf_free(&b);
	cr_assert_eq(virtio_dev_save(d, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_blk_create(NULL, 1, &mem, &other, &err), 0, "%s", err.msg);
	cr_assert_lt(virtio_dev_restore(other, b.p, b.len, &err), 0, "a full disk into a slot");
	cr_assert(strstr(err.msg, "4096 bytes"), "%s", err.msg);
	other->ops->destroy(other);
	snap_buf_free(&b);
	close(d->irqfd);
	d->ops->destroy(d);
	slot->ops->destroy(slot);
	unlink(disk_path);
}

Test(blk, readonly_refuses_writes)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };

	make_disk();
	cr_assert_eq(virtio_blk_create(disk_path, 1, &mem, &d, &err), 0, "%s", err.msg);
	driver_up(d, VIRTIO_F_VERSION_1 | 1u << VIRTIO_BLK_F_RO);
	memset(ram + DATA + 0x1000, 'Z', 512);
	blk_submit(d, VIRTIO_BLK_T_OUT, 0, 512, 0);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_IOERR);
	char c;
	int fd = open(disk_path, O_RDONLY);
	cr_assert_eq(pread(fd, &c, 1, 0), 1);
	cr_assert_eq(c, 'a', "file unchanged");
	close(fd);
	d->ops->destroy(d);
	unlink(disk_path);
}

Test(blk, malformed_request_needs_reset_until_the_driver_resets)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };

	make_disk();
	cr_assert_eq(virtio_blk_create(disk_path, 1, &mem, &d, &err), 0, "%s", err.msg);
	d->irqfd = eventfd(0, EFD_NONBLOCK);
	driver_up(d, VIRTIO_F_VERSION_1);

	set_desc(0, DATA, 16, 0, 0);  /* header only: no status byte */
	offer(0);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
	cr_assert_eq(used()->idx, 0);

	blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 1);  /* ignored while failed */
	cr_assert_eq(blk_status(), 0xee);

	driver_up(d, VIRTIO_F_VERSION_1);           /* reset and bring up again */
	blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 1);
	cr_assert_eq(blk_status(), VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[DATA + 0x1000], 'a');
	close(d->irqfd);
	d->ops->destroy(d);
	unlink(disk_path);
}

Test(blk, missing_or_odd_sized_file_is_refused_by_name)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };

	cr_assert_lt(virtio_blk_create("/nonexistent/disk.img", 1, &mem, &d, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/disk.img"), "%s", err.msg);
	make_disk();
	cr_assert_eq(truncate(disk_path, 1000), 0);
	cr_assert_lt(virtio_blk_create(disk_path, 1, &mem, &d, &err), 0);
	cr_assert(strstr(err.msg, "not a multiple of 512"), "%s", err.msg);
	unlink(disk_path);
}

TestSuite(rng, .init = ram_setup, .fini = ram_teardown);

Test(rng, fills_writable_buffers)
{
	struct virtio_dev *d;
	struct ign_err err = { 0 };

	cr_assert_eq(virtio_rng_create(&mem, &d, &err), 0);
	cr_assert_eq(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	driver_up(d, VIRTIO_F_VERSION_1);
	set_desc(0, DATA, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert_eq(used()->idx, 1);
	cr_assert_eq(used()->ring[0].len, 64);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < 64; i++)
		nonzero += ram[DATA + i] != 0;
	cr_assert_gt(nonzero, 32, "random bytes");
	d->ops->destroy(d);
}
