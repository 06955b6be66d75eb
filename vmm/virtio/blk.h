/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.x, 5.2) over a host file: read-only or read-write,
 * FLUSH (fdatasync), GET_ID. One request queue; requests are served
 * synchronously on the VM's I/O thread.
 */
#ifndef IGN_VIRTIO_BLK_H
#define IGN_VIRTIO_BLK_H

#include "mmio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO      5
#define VIRTIO_BLK_F_FLUSH   9

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20

/*
 * path NULL: an empty slot, 0 bytes, for a warm base (docs/snapshot-format.md);
 * a restore fills it with the disk the restoring VM was given.
 */
int virtio_blk_create(const char *path, int readonly, const struct guest_mem *mem,
		      struct virtio_dev **out, struct ign_err *err);

#endif
