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
 *  - a bind mount of a directory (a volume), read-write or read-only: shared
 *    live with the host over virtio-9p (the VMM's 9P2000.L server, p9/),
 *    mounted in the guest as 9p with the share's tag;
 *  - anything else (a device, a socket, a binary file): an error that names
 *    the mount.
 */
#ifndef IGN_SHIM_MOUNTS_H
#define IGN_SHIM_MOUNTS_H

#include "config.h"
#include "ign/err.h"
#include "ign/json.h"
#include "ign/vmm.h"

#define IGN_FILE_MAX (256 * 1024)
/* The guest's mount options for a volume: 128 KiB messages, coherent with the host. */
#define IGN_9P_OPTIONS "trans=virtio,version=9p2000.L,msize=131072,cache=mmap,access=client"

struct ign_volumes {
	struct ign_vm_share shares[IGN_VM_MAX_SHARES];  /* tag ign_volume_tag(N), path from config.json */
	unsigned nshares;
};

/* The 9p tag of volume i (< IGN_VM_MAX_SHARES): "vol<i>", also a warm base's slot names. */
const char *ign_volume_tag(unsigned i);

/* Whether m is a bind mount: type "bind", or any type with option bind or rbind (OCI). */
int ign_mount_is_bind(const struct ign_oci_mount *m);
/* Writes the guest's mounts array into g, and the shares the VM needs into vols. */
int ign_mounts_translate(const struct ign_oci_config *cfg, struct ign_jgen *g,
			 struct ign_volumes *vols, struct ign_err *err);

#endif
