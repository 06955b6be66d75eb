/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.x, 5.1) on a tap device. Only VIRTIO_NET_F_MAC is
 * offered: no offloads, so the guest's virtio-net header carries nothing the
 * host needs. It is stripped on transmit and written by the device on
 * receive; the guest's header bytes never reach the host kernel. Frames go
 * to and from the tap on the VM's I/O thread.
 */
#ifndef IGN_VIRTIO_NET_H
#define IGN_VIRTIO_NET_H

#include <stdint.h>

#include "evloop.h"
#include "mmio.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_HDR_LEN 12     /* struct virtio_net_hdr_v1 */
#define VIRTIO_NET_MAX_FRAME 65562  /* the largest frame a tap hands over, plus header */

/*
 * Attaches to tap device `tap` (created if it does not exist and we may),
 * with MAC mac[6] for the guest. loop may be NULL in tests, which then call
 * virtio_net_poll() themselves.
 */
int virtio_net_create(const char *tap, const uint8_t mac[6], const struct guest_mem *mem,
		      struct evloop *loop, struct virtio_dev **out, struct ign_err *err);
/* The same on an open, non-blocking frame fd (a tap; a SOCK_SEQPACKET socket in tests). */
int virtio_net_create_fd(int fd, const char *name, const uint8_t mac[6],
			 const struct guest_mem *mem, struct evloop *loop, struct virtio_dev **out,
			 struct ign_err *err);
/* Moves frames from the tap into the guest's receive buffers. */
void virtio_net_poll(struct virtio_dev *d);

#endif
