/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Warm bases (docs/warm-bases.md): one snapshot per profile, the (kernel,
 * ign-init, vCPUs, memory) a container asks for, taken when ign-init is up
 * and waiting for its root. Every container restores one as a clone, and
 * fills its empty device slots with its own root disk, tap and volumes.
 *
 * <bases>/<name>/snapshot   the snapshot (docs/snapshot-format.md), never changed
 * <bases>/<name>/profile    what it was made of, key=value lines
 * <bases>/<name>.lock       flock()ed while a base is built or dropped
 *
 * The name is "<vcpus>cpu-<mem>M-<digest>", the digest covering the kernel's
 * and initrd's identity (path, device, inode, size, mtime), the guest's
 * command line and the VMM's version and slot layout: a new kernel or ign-init is a new base, made on
 * the next create; the old one stays until dropped.
 */
#ifndef IGN_BASE_H
#define IGN_BASE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"
#include "ign/vmm.h"

#define IGN_BASE_NAME_MAX 64
#define IGN_BASE_SHARE_SLOTS IGN_VM_MAX_SHARES  /* a base has a slot for every volume */

struct ign_base_profile {
	const char *kernel, *initrd;
	unsigned vcpus;
	uint64_t mem_mib;
	const char *cmdline;      /* the guest's; NULL: none */
};

struct ign_base_info {
	char name[IGN_BASE_NAME_MAX];
	char kernel[PATH_MAX], initrd[PATH_MAX];
	unsigned vcpus;
	uint64_t mem_mib;
	int64_t created;          /* seconds since the epoch */
	uint64_t disk_bytes;      /* blocks the snapshot takes */
};

int ign_base_name(const struct ign_base_profile *p, char out[IGN_BASE_NAME_MAX],
		  struct ign_err *err);
/*
 * An application base (annotation io.ign.ready, docs/warm-bases.md): the
 * profile's name, "-app-", and a digest of `what` (the bundle's config.json
 * and its root image), so another bundle or image is another base.
 */
int ign_base_app_name(const char *profile_name, const void *what, size_t len,
		      char out[IGN_BASE_NAME_MAX], struct ign_err *err);
/* Locks base `name` in `bases` (made if missing); returns the lock's fd. */
int ign_base_lock(const char *bases, const char *name, struct ign_err *err);
/* "<bases>/<name>/snapshot"; whether it is there (with a state file) */
int ign_base_snapshot(const char *bases, const char *name, char out[PATH_MAX]);
/*
 * With the lock held: makes build directory "<bases>/.build-<name>-<pid>"
 * (removing those that crashed builds left) for the VMM to write its
 * snapshot into, as "<build>/snapshot".
 */
int ign_base_build_dir(const char *bases, const char *name, char out[PATH_MAX],
		       struct ign_err *err);
/* With the lock held: writes the profile and renames the build into place. */
int ign_base_commit(const char *bases, const char *name, const char *build,
		    const struct ign_base_profile *p, struct ign_err *err);
/*
 * Drops base `name` (clones running from it keep their mapping), and with a
 * profile's base its application bases, which are diffs over it.
 */
int ign_base_drop(const char *bases, const char *name, struct ign_err *err);
/* The bases in `bases`, sorted by name; *out is malloc'ed. */
int ign_base_list(const char *bases, struct ign_base_info **out, unsigned *n,
		  struct ign_err *err);

#endif
