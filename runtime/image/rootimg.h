/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Root images: a directory (an OCI bundle's rootfs) becomes a read-only
 * erofs or ext4 image, built by Debian's mkfs.erofs or mkfs.ext4 -d, kept in
 * a cache under a key computed from the tree, so an unchanged tree is not
 * rebuilt. The key covers, for every entry: its path, type, mode, owner,
 * size, modification time, symlink target and device number (like rsync's
 * quick check: contents rewritten with the old size and mtime restored go
 * unnoticed), plus the file system type and the builder's version.
 *
 * An image appears in the cache only complete: it is built under a
 * temporary name and renamed into place; a failed build leaves nothing.
 */
#ifndef IGN_ROOTIMG_H
#define IGN_ROOTIMG_H

#include "ign/err.h"

enum ign_fs { IGN_FS_EROFS, IGN_FS_EXT4 };

struct ign_rootimg {
	const char *rootfs;     /* the directory */
	const char *cache_dir;  /* created if missing */
	enum ign_fs fs;
	int progress_fd;        /* a line here for large trees; -1: none */
};

/* Sets *path (malloc'd) to the image; *cached: whether it was there already. */
int ign_rootimg_get(const struct ign_rootimg *o, char **path, int *cached, struct ign_err *err);
const char *ign_fs_name(enum ign_fs fs);

/*
 * A ready image instead of a tree (annotation io.ign.root-image): `path`
 * must be a readable regular file holding an erofs or ext4 file system (its
 * superblock's magic); sets *fs. Nothing is walked or built.
 */
int ign_rootimg_ready(const char *path, enum ign_fs *fs, struct ign_err *err);

#endif
