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

#include "fake_driver.h"
#include "virtio/net.h"

#define RXQ 0
#define TXQ 1
#define HDR VIRTIO_NET_HDR_LEN
#define BUF(q, i) (0x20000 + 0x10000 * (q) + 0x800 * (i))
#define RX_LEN (HDR + 1514)

static int wire;  /* the host's end of the fake tap */
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void setup(void)
{
	struct ign_err err = { 0 };
	int sv[2];

	fake_ram_setup();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	wire = sv[0];
	cr_assert_eq(virtio_net_create_fd(sv[1], "test0", mac, &mem, NULL, &dev, &err), 0,
		     "%s", err.msg);
	fake_driver_up(1ULL << VIRTIO_NET_F_MAC, 2);
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
