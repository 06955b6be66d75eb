// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock against a fake guest driver (rings in a plain buffer) and
 * real AF_UNIX sockets on the host side: the CONNECT handshake, data both
 * ways, guest-initiated connections, resets, and malformed packets.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_driver.h"
#include "virtio/vsock.h"

#define RXQ 0
#define TXQ 1
#define HDR sizeof(struct vsock_hdr)
#define CID 3
#define BUF(q, i) (0x20000 + 0x10000 * (q) + 0x1400 * (i))
#define BUF_LEN 0x1400

static char path[64];
static uint16_t rx_used_seen;

static void setup(void)
{
	struct ign_err err = { 0 };

	fake_ram_setup();
	snprintf(path, sizeof(path), "/tmp/ign-vsock-test-%d", (int)getpid());
	unlink(path);
	cr_assert_eq(virtio_vsock_create(CID, path, &mem, NULL, &dev, &err), 0, "%s", err.msg);
	fake_driver_up(0, 3);
	rx_used_seen = 0;
}

static void teardown(void)
{
	dev->ops->destroy(dev);
	cr_assert_neq(access(path, F_OK), 0, "the socket is removed with the device");
	free(ram);
}

/* Offers one receive buffer (header + 4 KiB, as Linux does) and kicks. */
static void rx_offer(void)
{
	uint16_t slot = avail(RXQ)->idx % QSIZE;

	*desc(RXQ, slot) = (struct virtq_desc){ BUF(RXQ, slot), BUF_LEN, VIRTQ_DESC_F_WRITE, 0 };
	avail(RXQ)->ring[slot] = slot;
	avail(RXQ)->idx++;
	virtio_dev_kick(dev, RXQ);
}

/* The next packet the device gave the guest; fails if there is none. */
static struct vsock_hdr *rx_next(const char *what)
{
	cr_assert_neq(used(RXQ)->idx, rx_used_seen, "no packet to the guest: %s", what);
	struct virtq_used_elem *e = &used(RXQ)->ring[rx_used_seen++ % QSIZE];
	cr_assert_geq(e->len, HDR);
	struct vsock_hdr *h = (struct vsock_hdr *)(ram + BUF(RXQ, e->id));
	cr_assert_eq(e->len, HDR + h->len);
	return h;
}

static void tx_send(uint16_t op, uint32_t src_port, uint32_t dst_port, const void *data,
		    uint32_t len, uint32_t claimed_len)
{
	uint16_t slot = avail(TXQ)->idx % QSIZE;
	struct vsock_hdr h = {
		.src_cid = CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port,
		.dst_port = dst_port, .len = claimed_len, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = 65536, .fwd_cnt = 0,
		.flags = op == VSOCK_OP_SHUTDOWN ? VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND : 0,
	};
	memcpy(ram + BUF(TXQ, slot), &h, HDR);
	memcpy(ram + BUF(TXQ, slot) + HDR, data, len);
	*desc(TXQ, slot) = (struct virtq_desc){ BUF(TXQ, slot), HDR + len, 0, 0 };
	avail(TXQ)->ring[slot] = slot;
	avail(TXQ)->idx++;
	virtio_dev_kick(dev, TXQ);
}

static int host_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "%s", strerror(errno));
	return fd;
}

static void host_read(int fd, const char *want)
{
	char buf[256] = "";
	struct pollfd p = { fd, POLLIN, 0 };

	cr_assert_eq(poll(&p, 1, 2000), 1, "host got nothing; wanted %s", want);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, want);
}

/* Host connects to guest port 1024, the guest accepts: returns the host fd. */
static int open_conn(uint32_t *host_port)
{
	int fd = host_connect();

	cr_assert_eq(write(fd, "CONNECT 1024\n", 13), 13);
	virtio_vsock_poll(dev);
	rx_offer();
	struct vsock_hdr *h = rx_next("REQUEST");
	cr_assert_eq(h->op, VSOCK_OP_REQUEST);
	cr_assert_eq(h->src_cid, VSOCK_HOST_CID);
	cr_assert_eq(h->dst_cid, CID);
	cr_assert_eq(h->dst_port, 1024);
	*host_port = h->src_port;
	tx_send(VSOCK_OP_RESPONSE, 1024, *host_port, NULL, 0, 0);
	char ok[32];
	snprintf(ok, sizeof(ok), "OK %u\n", *host_port);
	host_read(fd, ok);
	return fd;
}

TestSuite(vsock, .init = setup, .fini = teardown);

Test(vsock, config_space_holds_the_guest_cid)
{
	uint64_t cid = 0;

	virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG, 0, (uint8_t *)&cid, 8);
	cr_assert_eq(cid, CID);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
}

Test(vsock, host_connects_and_data_flows_both_ways)
{
	uint32_t port;
	int fd = open_conn(&port);

	cr_assert_eq(write(fd, "ping", 4), 4);
	virtio_vsock_poll(dev);
	rx_offer();
	struct vsock_hdr *h = rx_next("data");
	cr_assert_eq(h->op, VSOCK_OP_RW);
	cr_assert_eq(h->len, 4);
	cr_assert_eq(memcmp(h + 1, "ping", 4), 0);

	tx_send(VSOCK_OP_RW, 1024, port, "pong", 4, 4);
	host_read(fd, "pong");

	/* The host half-closes: the guest hears SHUTDOWN(SEND), then data still flows back. */
	shutdown(fd, SHUT_WR);
	virtio_vsock_poll(dev);
	rx_offer();
	h = rx_next("shutdown");
	cr_assert_eq(h->op, VSOCK_OP_SHUTDOWN);
	cr_assert_eq(h->flags, VSOCK_SHUTDOWN_SEND);
	tx_send(VSOCK_OP_RW, 1024, port, "late", 4, 4);
	host_read(fd, "late");

	/* The guest closes too: the host sees EOF, the guest gets its RST. */
	tx_send(VSOCK_OP_SHUTDOWN, 1024, port, NULL, 0, 0);
	char buf[8];
	rx_offer();
	h = rx_next("RST");
	cr_assert_eq(h->op, VSOCK_OP_RST);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 0, "EOF after the guest's shutdown");
	close(fd);
}

Test(vsock, guest_connection_reaches_path_port)
{
	char lpath[96];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(lpath, sizeof(lpath), "%s_5000", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", lpath);
	unlink(lpath);
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l, 1), 0);

	tx_send(VSOCK_OP_REQUEST, 777, 5000, NULL, 0, 0);
	rx_offer();
	struct vsock_hdr *h = rx_next("RESPONSE");
	cr_assert_eq(h->op, VSOCK_OP_RESPONSE);
	cr_assert_eq(h->src_port, 5000);
	cr_assert_eq(h->dst_port, 777);
	int c = accept(l, NULL, NULL);
	cr_assert_geq(c, 0);
	tx_send(VSOCK_OP_RW, 777, 5000, "hi host", 7, 7);
	host_read(c, "hi host");
	close(c);
	close(l);
	unlink(lpath);

	/* Nobody on port 5001: reset. */
	tx_send(VSOCK_OP_REQUEST, 778, 5001, NULL, 0, 0);
	rx_offer();
	h = rx_next("RST");
	cr_assert_eq(h->op, VSOCK_OP_RST);
	cr_assert_eq(h->dst_port, 778);
}

Test(vsock, refused_connect_closes_the_host_side)
{
	int fd = host_connect();
	char buf[8];

	cr_assert_eq(write(fd, "CONNECT 99\n", 11), 11);
	virtio_vsock_poll(dev);
	rx_offer();
	struct vsock_hdr *h = rx_next("REQUEST");
	cr_assert_eq(h->dst_port, 99);
	tx_send(VSOCK_OP_RST, 99, h->src_port, NULL, 0, 0);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 0, "EOF when the guest refuses");
	close(fd);

	fd = host_connect();
	cr_assert_eq(write(fd, "HELLO\n", 6), 6);
	virtio_vsock_poll(dev);
	cr_assert_leq(read(fd, buf, sizeof(buf)), 0, "a bad CONNECT line is hung up on");
	close(fd);
}

Test(vsock, data_for_an_unknown_connection_is_reset)
{
	tx_send(VSOCK_OP_RW, 4000, 4001, "x", 1, 1);
	rx_offer();
	struct vsock_hdr *h = rx_next("RST");
	cr_assert_eq(h->op, VSOCK_OP_RST);
	cr_assert_eq(h->dst_port, 4000);
	cr_assert_eq(h->src_port, 4001);
}

Test(vsock, malformed_packet_needs_reset)
{
	tx_send(VSOCK_OP_RW, 4000, 4001, "abc", 3, 1000);  /* claims more than it carries */
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
}

Test(vsock, socket_path_in_use_is_refused_by_name)
{
	struct virtio_dev *d2;
	struct ign_err err = { 0 };

	cr_assert_lt(virtio_vsock_create(CID, path, &mem, NULL, &d2, &err), 0);
	cr_assert(strstr(err.msg, path) && strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_eq(access(path, F_OK), 0, "the other device's socket is left alone");
	cr_assert_lt(virtio_vsock_create(2, "/tmp/x", &mem, NULL, &d2, &err), 0);
	cr_assert(strstr(err.msg, "CID 2"), "%s", err.msg);
}

Test(vsock, snapshot_only_with_no_connection_open)
{
	struct ign_err err = { 0 };
	struct snap_buf b = { 0 };
	uint32_t port;

	cr_assert_eq(virtio_dev_can_snapshot(dev, &err), 0);
	cr_assert_eq(virtio_dev_save(dev, &b, &err), 0, "%s", err.msg);
	size_t idle = b.len;
	cr_assert_eq(virtio_dev_restore(dev, b.p, b.len, &err), 0, "%s", err.msg);
	cr_assert_lt(virtio_dev_restore(dev, b.p, b.len - 1, &err), 0, "short device state");
	int fd = open_conn(&port);
	b.len = 0;
	cr_assert_lt(virtio_dev_save(dev, &b, &err), 0);
	cr_assert(strstr(err.msg, "virtio-vsock") && strstr(err.msg, "1 connection open"),
		  "%s", err.msg);
	/* a reset's disconnect: the host reads EOF, and the device saves as idle again */
	dev->ops->disconnect(dev);
	char c;
	struct pollfd p = { fd, POLLIN, 0 };
	cr_assert_eq(poll(&p, 1, 2000), 1);
	cr_assert_eq(read(fd, &c, 1), 0, "the host side sees its connection end");
	b.len = 0;
	cr_assert_eq(virtio_dev_save(dev, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.len, idle);
	int fd2 = open_conn(&port);  /* and it takes new connections */
	close(fd2);
	close(fd);
	cr_assert_gt(idle, 0);
	snap_buf_free(&b);
}
