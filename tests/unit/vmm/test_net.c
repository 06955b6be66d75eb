// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net against a fake guest driver, with a SOCK_SEQPACKET socket pair
 * standing in for the tap (one frame per datagram, as a tap gives them).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "virtio/net.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 8
#define RXQ 0
#define TXQ 1
#define HDR VIRTIO_NET_HDR_LEN
#define DESC(q)  (0x1000 + 0x3000 * (q))
#define AVAIL(q) (0x2000 + 0x3000 * (q))
#define USED(q)  (0x3000 + 0x3000 * (q))
#define BUF(q, i) (0x20000 + 0x10000 * (q) + 0x800 * (i))
#define RX_LEN (HDR + 1514)

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_dev *dev;
static int wire;  /* the host's end of the fake tap */
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

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

static void setup(void)
{
	struct ign_err err = { 0 };
	int sv[2];

	ram = aligned_alloc(4096, MEM_SIZE);
	memset(ram, 0, MEM_SIZE);
	guest_mem_layout(&mem, MEM_SIZE);
	mem.hva = ram;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	wire = sv[0];
	cr_assert_eq(virtio_net_create_fd(sv[1], "test0", mac, &mem, NULL, &dev, &err), 0,
		     "%s", err.msg);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_NET_F_MAC);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);  /* VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
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

static void teardown(void)
{
	dev->ops->destroy(dev);
	close(wire);
	free(ram);
}

static void offer(unsigned q, uint32_t len, uint16_t flags)
{
	uint16_t slot = avail(q)->idx % QSIZE;

	*desc(q, slot) = (struct virtq_desc){ BUF(q, slot), len, flags, 0 };
	avail(q)->ring[slot] = slot;
	avail(q)->idx++;
}

TestSuite(net, .init = setup, .fini = teardown);

Test(net, mac_in_config_space)
{
	uint8_t got[6];

	for (int i = 0; i < 6; i++)
		virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + i, 0, &got[i], 1);
	cr_assert_eq(memcmp(got, mac, 6), 0);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
}

Test(net, transmit_strips_the_header)
{
	uint8_t frame[64], got[128];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = i;
	memset(ram + BUF(TXQ, 0), 0xee, HDR);  /* whatever the guest put there stays here */
	memcpy(ram + BUF(TXQ, 0) + HDR, frame, sizeof(frame));
	offer(TXQ, HDR + sizeof(frame), 0);
	virtio_dev_kick(dev, TXQ);
	cr_assert_eq(used(TXQ)->idx, 1);
	cr_assert_eq(read(wire, got, sizeof(got)), (ssize_t)sizeof(frame));
	cr_assert_eq(memcmp(got, frame, sizeof(frame)), 0);
}

Test(net, receive_fills_header_and_frame)
{
	uint8_t frame[100];

	memset(frame, 0x5a, sizeof(frame));
	cr_assert_eq(write(wire, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	cr_assert_eq(write(wire, frame, 60), 60);
	virtio_net_poll(dev);
	cr_assert_eq(used(RXQ)->idx, 0, "no receive buffer yet: the frame waits");
	offer(RXQ, RX_LEN, VIRTQ_DESC_F_WRITE);
	virtio_dev_kick(dev, RXQ);
	cr_assert_eq(used(RXQ)->idx, 1);
	cr_assert_eq(used(RXQ)->ring[0].len, HDR + sizeof(frame));
	cr_assert_eq(ram[BUF(RXQ, 0) + 10], 1, "num_buffers is 1");
	cr_assert_eq(ram[BUF(RXQ, 0)], 0, "no offload flags");
	cr_assert_eq(memcmp(ram + BUF(RXQ, 0) + HDR, frame, sizeof(frame)), 0);
	offer(RXQ, RX_LEN, VIRTQ_DESC_F_WRITE);
	offer(RXQ, RX_LEN, VIRTQ_DESC_F_WRITE);
	virtio_dev_kick(dev, RXQ);
	cr_assert_eq(used(RXQ)->idx, 2, "the second frame; the third buffer stays free");
	cr_assert_eq(used(RXQ)->ring[1].len, HDR + 60);
}

Test(net, runt_transmit_chain_needs_reset)
{
	offer(TXQ, HDR - 2, 0);
	virtio_dev_kick(dev, TXQ);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}
