/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-9p (virtio 1.x, 5.15 "9P transport"): a host directory the guest
 * mounts with `mount -t 9p -o trans=virtio,version=9p2000.L TAG DIR`. One
 * request queue; each chain is one T-message (device-readable) and room for
 * its R-message (device-writable), served synchronously on the VM's I/O
 * thread by the 9P2000.L server in p9/ (which keeps the guest inside the
 * directory). The config space is the mount tag.
 */
#ifndef IGN_VIRTIO_9P_H
#define IGN_VIRTIO_9P_H

#include "mmio.h"

#define VIRTIO_ID_9P 9
#define VIRTIO_9P_F_MOUNT_TAG 0
#define VIRTIO_9P_TAG_MAX 64

/*
 * tag: 1 to 64 of [A-Za-z0-9_.-]; readonly: every change is refused (EROFS).
 * dir NULL: an empty slot, whose attach fails (ENXIO) until a restore fills it.
 */
int virtio_9p_create(const char *tag, const char *dir, int readonly,
		     const struct guest_mem *mem, struct virtio_dev **out, struct ign_err *err);

#endif
