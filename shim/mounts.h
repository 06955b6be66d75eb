/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.json's mounts, carried into the guest (docs/runtime.md, "Mounts"):
 *  - proc, sysfs, tmpfs, devpts, mqueue, cgroup: mounted by ign-init in the
 *    guest as they are (cgroup becomes cgroup2; the guest's own /proc, /sys,
 *    /dev, /dev/pts stay);
 *  - a bind mount of /dev/shm: the guest's own tmpfs;
 *  - a bind mount of a regular file up to IGN_FILE_MAX (podman's /etc/hosts,
 *    /etc/resolv.conf, /etc/hostname, /run/.containerenv...): copied into the
 *    guest's tmpfs at create time ("ign-file" with the contents);
 *  - a read-only bind mount of a directory: an erofs image of it (through the
 *    image cache) on one more virtio-blk disk, mounted read-only;
 *  - anything else (a writable directory, a device, a socket): an error that
 *    names the mount.
 */
#ifndef IGN_SHIM_MOUNTS_H
#define IGN_SHIM_MOUNTS_H

#include "config.h"
#include "ign/err.h"
#include "ign/json.h"

#define IGN_FILE_MAX (256 * 1024)
#define IGN_VOLUME_DISKS 6

struct ign_volumes {
	char *disks[IGN_VOLUME_DISKS];   /* image paths, in guest order after the root disk */
	unsigned ndisks;
};

/*
 * Writes the guest's mounts array into g. first_disk: the guest letter of
 * the first volume disk ('b' after /dev/vda). image_cache: where erofs images
 * of read-only directories go (NULL: such mounts are refused).
 */
int ign_mounts_translate(const struct ign_oci_config *cfg, const char *image_cache,
			 char first_disk, struct ign_jgen *g, struct ign_volumes *vols,
			 struct ign_err *err);
void ign_volumes_free(struct ign_volumes *v);

#endif
