/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's root: the read-only image on a virtio disk is the lower layer
 * of an overlay whose upper layer is a tmpfs in guest RAM, so nothing the
 * workload writes reaches the host. ign-init moves the overlay onto / (the
 * initramfs cannot be pivot_root'ed; a mount moved over it makes the
 * overlay the namespace's root, so user namespaces still work).
 */
#ifndef IGN_INIT_ROOTFS_H
#define IGN_INIT_ROOTFS_H

#include "ign/err.h"
#include "spec.h"

struct root_config {
	const char *device;   /* "/dev/vda" */
	const char *fstype;   /* "erofs", "ext4", or NULL: try both */
	const char *upper_size;  /* tmpfs size= ("50%" by default) */
};

/* Mounts the overlay root and moves into it, with /proc, /sys, /dev, /dev/pts. */
int rootfs_setup(const struct root_config *cfg, struct ign_err *err);
/* The spec's mounts, in order, inside the current root. */
int rootfs_mount_all(const struct spec *s, struct ign_err *err);

#endif
