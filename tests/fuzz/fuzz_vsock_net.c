// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: an untrusted guest driving virtio-vsock or virtio-net.
 * The input is the guest's RAM (rings, packet headers, payloads) and where
 * the driver put each queue's rings; the host side is real: a connection
 * through the vsock socket that sends data, or a frame waiting on the fake
 * tap. The target kicks every queue (transmit first) and polls the host
 * side in between. Any memory error, overflow or hang is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/vsock.h"

#define RAM_SIZE (64u << 10)
#define HEAD 22

static uint8_t *ram;
static struct guest_mem mem;
static char path[64];

static void wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_access(d, off, 1, (uint8_t *)&v, 4);
}

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }

static int host_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	if (write(fd, "CONNECT 1024\nhost data", 22) != 22)
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ign_err err = { 0 };
	struct virtio_dev *d = NULL;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	int host = -1, sv[2] = { -1, -1 };

	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		guest_mem_layout(&mem, RAM_SIZE);
		mem.hva = ram;
		snprintf(path, sizeof(path), "/tmp/ign-fuzz-vsock-%d", (int)getpid());
	}
	if (size < HEAD)
		return 0;
	int is_net = data[0] & 1;
	uint32_t qsize = 1u << (data[1] % 10);
	unsigned nq = is_net ? 2 : 3;
	const uint8_t *rings = data + 2;   /* per queue: desc, avail, used (3 x u16) */
	uint16_t kick2 = get16(data + 20);
	data += HEAD, size -= HEAD;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);

	if (is_net) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0 ||
		    virtio_net_create_fd(sv[1], "fuzz0", mac, &mem, NULL, &d, &err) < 0)
			abort();
		if (write(sv[0], "a frame from the host", 21) != 21)
			abort();
	} else {
		unlink(path);
		if (virtio_vsock_create(3, path, &mem, NULL, &d, &err) < 0)
			abort();
		host = host_connect();
	}
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, is_net ? 1u << VIRTIO_NET_F_MAC : 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
		wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, get16(rings + 6 * q) * 2u);
		wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, get16(rings + 6 * q + 2) * 2u);
		wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, get16(rings + 6 * q + 4) * 2u);
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	for (int round = 0; round < 2; round++) {
		if (is_net)
			virtio_net_poll(d);
		else
			virtio_vsock_poll(d);
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 1);  /* transmit */
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);  /* receive */
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
		/* The guest moves its transmit avail index and goes again. */
		if (d->vq[1].avail)
			__atomic_store_n(&d->vq[1].avail->idx, kick2, __ATOMIC_RELEASE);
	}
	char sink[256];
	while (is_net && read(sv[0], sink, sizeof(sink)) > 0)
		;
	d->ops->destroy(d);
	if (host >= 0)
		close(host);
	if (sv[0] >= 0)
		close(sv[0]);
	return 0;
}
