/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (virtio 1.x, 5.10) with its host side on AF_UNIX sockets, in
 * Firecracker's style:
 *  - host to guest: connect to the device's socket PATH and write
 *    "CONNECT <port>\n"; once the guest accepts, the VMM answers
 *    "OK <host port>\n" and the connection carries the stream. If the guest
 *    refuses (nothing listens on that port), the VMM closes the connection.
 *  - guest to host: a guest connection to CID 2, port P reaches whoever
 *    listens on the AF_UNIX socket "PATH_P"; none there means a reset.
 * Flow control is virtio-vsock's credit scheme: at most VSOCK_CONN_BUF bytes
 * the host has not yet drained are buffered per connection.
 *
 * All packet handling runs on the VM's I/O thread under the device lock;
 * connections are watched by the device's own epoll set, which sits in the
 * VM's event loop as one file descriptor.
 */
#ifndef IGN_VIRTIO_VSOCK_H
#define IGN_VIRTIO_VSOCK_H

#include <stdint.h>

#include "evloop.h"
#include "mmio.h"

#define VIRTIO_ID_VSOCK 19
#define VSOCK_HOST_CID 2
#define VSOCK_CONN_BUF (256u << 10)  /* per-connection buffer for guest-to-host data */
#define VSOCK_MAX_CONNS 256

struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

enum {
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};
#define VSOCK_TYPE_STREAM 1
#define VSOCK_SHUTDOWN_RCV 1   /* the sender will receive no more */
#define VSOCK_SHUTDOWN_SEND 2  /* the sender will send no more */

/*
 * Creates the device and its listening socket at path (which must not exist;
 * it is removed when the device is destroyed). loop may be NULL in tests,
 * which then call virtio_vsock_poll() themselves.
 */
int virtio_vsock_create(uint64_t guest_cid, const char *path, const struct guest_mem *mem,
			struct evloop *loop, struct virtio_dev **out, struct ign_err *err);
/* Handles whatever is ready on the host sockets (the event loop does this). */
void virtio_vsock_poll(struct virtio_dev *d);

#endif
