// SPDX-License-Identifier: Apache-2.0
/*
 * Root images with the real mkfs.erofs / mkfs.ext4: the cache key follows
 * the tree, a hit does not rebuild, and bad trees and full disks give named
 * errors and leave nothing in the cache.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rootimg.h"

static char top[] = "/tmp/ign-rootimg-XXXXXX";
static char tree[64], cache[64];

static void put(const char *rel, const char *text)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	FILE *f = fopen(p, "w");
	cr_assert(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	cr_assert(mkdtemp(top));
	snprintf(tree, sizeof(tree), "%s/rootfs", top);
	snprintf(cache, sizeof(cache), "%s/cache", top);
	mkdir(tree, 0755);
	char p[512];
	snprintf(p, sizeof(p), "%s/etc", tree);
	mkdir(p, 0755);
	put("etc/hostname", "box\n");
	snprintf(p, sizeof(p), "%s/link", tree);
	cr_assert_eq(symlink("etc/hostname", p), 0);
}

static void teardown(void)
{
	char cmd[300];

	umount(cache);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	cr_assert_eq(system(cmd), 0);
}

static unsigned cache_entries(void)
{
	DIR *d = opendir(cache);
	unsigned n = 0;

	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".tmp", 4) == 0;
	closedir(d);
	return n;
}

static int get(enum ign_fs fs, char **path, int *cached, struct ign_err *err)
{
	struct ign_rootimg o = { .rootfs = tree, .cache_dir = cache, .fs = fs, .progress_fd = -1 };

	return ign_rootimg_get(&o, path, cached, err);
}

TestSuite(rootimg, .init = setup, .fini = teardown);

Test(rootimg, builds_then_hits_the_cache_then_follows_changes)
{
	struct ign_err err = { 0 };
	char *a, *b, *c;
	int cached;
	struct stat st;

	cr_assert_eq(get(IGN_FS_EROFS, &a, &cached, &err), 0, "%s", err.msg);
	cr_assert_not(cached);
	cr_assert_eq(stat(a, &st), 0);
	cr_assert_gt(st.st_size, 0);
	cr_assert_eq(st.st_mode & 0777, 0444, "images are read-only");
	char magic[4];
	int fd = open(a, O_RDONLY);
	cr_assert_eq(pread(fd, magic, 4, 1024), 4);
	close(fd);
	cr_assert_eq(memcmp(magic, "\xe2\xe1\xf5\xe0", 4), 0, "erofs superblock magic");

	cr_assert_eq(get(IGN_FS_EROFS, &b, &cached, &err), 0, "%s", err.msg);
	cr_assert(cached, "an unchanged tree hits the cache");
	cr_assert_str_eq(a, b);

	put("etc/hostname", "other\n");  /* a new size and mtime */
	cr_assert_eq(get(IGN_FS_EROFS, &c, &cached, &err), 0, "%s", err.msg);
	cr_assert_not(cached);
	cr_assert_str_neq(a, c, "a changed tree gets a new image");
	cr_assert_eq(cache_entries(), 2);
	free(a), free(b), free(c);
}

Test(rootimg, ext4_has_its_own_key)
{
	struct ign_err err = { 0 };
	char *a, *b;
	int cached;

	cr_assert_eq(get(IGN_FS_EROFS, &a, &cached, &err), 0, "%s", err.msg);
	cr_assert_eq(get(IGN_FS_EXT4, &b, &cached, &err), 0, "%s", err.msg);
	cr_assert_not(cached);
	cr_assert_str_neq(a, b);
	cr_assert(strstr(b, ".ext4"));
	unsigned char sb[2];
	int fd = open(b, O_RDONLY);
	cr_assert_eq(pread(fd, sb, 2, 1024 + 56), 2);
	close(fd);
	cr_assert(sb[0] == 0x53 && sb[1] == 0xef, "ext4 superblock magic");
	free(a), free(b);
}

Test(rootimg, socket_in_the_tree_is_named)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ign_err err = { 0 };
	char *p;
	int cached;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/etc/sock", tree);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_lt(get(IGN_FS_EROFS, &p, &cached, &err), 0);
	cr_assert(strstr(err.msg, "etc/sock") && strstr(err.msg, "socket"), "%s", err.msg);
	cr_assert_eq(cache_entries(), 0);
	close(s);
}

Test(rootimg, missing_rootfs_is_named)
{
	struct ign_rootimg o = { .rootfs = "/nonexistent/rootfs", .cache_dir = cache,
				 .progress_fd = -1 };
	struct ign_err err = { 0 };
	char *p;
	int cached;

	cr_assert_lt(ign_rootimg_get(&o, &p, &cached, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/rootfs"), "%s", err.msg);
}

Test(rootimg, full_cache_disk_is_named_and_leaves_nothing)
{
	struct ign_err err = { 0 };
	char *p;
	int cached;

	if (geteuid() != 0)
		cr_skip_test("mounting a tiny tmpfs as the cache needs root");
	mkdir(cache, 0755);
	if (mount("ign-test", cache, "tmpfs", 0, "size=64k") < 0)
		cr_skip_test("cannot mount a tmpfs here: %s", strerror(errno));
	/* 1 MiB of content cannot fit in 64 KiB. */
	char *big = malloc(1 << 20);
	memset(big, 'x', 1 << 20);
	big[(1 << 20) - 1] = 0;
	put("big", big);
	free(big);
	cr_assert_lt(get(IGN_FS_EROFS, &p, &cached, &err), 0);
	cr_assert(strstr(err.msg, cache) && strstr(err.msg, "MiB free"), "%s", err.msg);
	cr_assert_eq(cache_entries(), 0, "no image and no temporary file left");
}

Test(rootimg, ready_images_are_known_by_their_superblock)
{
	struct ign_err err = { 0 };
	enum ign_fs fs = IGN_FS_EXT4;
	char *a, *b, p[128];
	int cached;

	cr_assert_eq(get(IGN_FS_EROFS, &a, &cached, &err), 0, "%s", err.msg);
	cr_assert_eq(ign_rootimg_ready(a, &fs, &err), 0, "%s", err.msg);
	cr_assert_eq(fs, IGN_FS_EROFS);
	cr_assert_eq(get(IGN_FS_EXT4, &b, &cached, &err), 0, "%s", err.msg);
	cr_assert_eq(ign_rootimg_ready(b, &fs, &err), 0, "%s", err.msg);
	cr_assert_eq(fs, IGN_FS_EXT4);

	/* a file that is neither, a short one, a directory, a missing one: each named */
	snprintf(p, sizeof(p), "%s/etc/hostname", tree);
	cr_assert_eq(ign_rootimg_ready(p, &fs, &err), -EINVAL);
	cr_assert(strstr(err.msg, "neither erofs nor ext4") && strstr(err.msg, p), "%s", err.msg);
	char big[4096] = { 0 };
	snprintf(p, sizeof(p), "%s/zeros", top);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	cr_assert_eq(ign_rootimg_ready(p, &fs, &err), -EINVAL, "zeros are no image");
	cr_assert_eq(ign_rootimg_ready(tree, &fs, &err), -EINVAL);
	cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
	snprintf(p, sizeof(p), "%s/none.erofs", top);
	cr_assert_eq(ign_rootimg_ready(p, &fs, &err), -ENOENT);
	cr_assert(strstr(err.msg, p), "%s", err.msg);
	free(a), free(b);
}
