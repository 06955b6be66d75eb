// SPDX-License-Identifier: Apache-2.0
#include "rootimg.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

#define ROOTIMG_FORMAT "ign-rootimg-1"
#define PROGRESS_FILES 20000
#define PROGRESS_BYTES (256ULL << 20)

extern char **environ;

const char *ign_fs_name(enum ign_fs fs)
{
	return fs == IGN_FS_EXT4 ? "ext4" : "erofs";
}

int ign_rootimg_ready(const char *path, enum ign_fs *fs, struct ign_err *err)
{
	/* both superblocks start 1024 bytes in; ext4's magic is 0x38 into it */
	unsigned char sb[1024 + 0x3a];
	struct stat st;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		return ign_err_set(err, errno, "root image `%s`", path);
	if (!S_ISREG(st.st_mode))
		return ign_err_setx(err, EINVAL, "root image `%s` is not a regular file (an erofs "
				    "or ext4 image, e.g. from ign-mkimage)", path);
	ssize_t n = ign_read_full(fd, sb, sizeof(sb));
	if (n < 0)
		return ign_err_set(err, (int)-n, "root image `%s`", path);
	if (n == (ssize_t)sizeof(sb) && sb[1024] == 0xe2 && sb[1025] == 0xe1 && sb[1026] == 0xf5 &&
	    sb[1027] == 0xe0)
		return *fs = IGN_FS_EROFS, 0;
	if (n == (ssize_t)sizeof(sb) && sb[1024 + 0x38] == 0x53 && sb[1024 + 0x39] == 0xef)
		return *fs = IGN_FS_EXT4, 0;
	return ign_err_setx(err, EINVAL, "root image `%s` is neither erofs nor ext4 (no "
			    "superblock magic): make one with ign-mkimage ROOTFS", path);
}

/* nftw has no user pointer: the walk's state lives here for its duration. */
static struct walk {
	EVP_MD_CTX *md;
	size_t root_len;
	unsigned long long files, bytes, dirs;
	struct ign_err *err;
	int failed, check_read;
} w;

static int walk_fail(int code, const char *fmt, const char *path)
{
	ign_err_setx(w.err, code, fmt, path, strerror(code));
	w.failed = 1;
	return 1;  /* stops nftw */
}

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char link[PATH_MAX] = "";
	char rec[PATH_MAX + 256];

	(void)ftw;
	if (flag == FTW_DNR)
		return walk_fail(EACCES, "directory `%s` cannot be read (%s)", path);
	if (flag == FTW_NS)
		return walk_fail(errno ? errno : EACCES, "`%s` cannot be examined (%s)", path);
	if (S_ISSOCK(st->st_mode))
		return walk_fail(EINVAL, "`%s` is a socket, which an image cannot carry (%s); "
				 "remove it", path);
	if (S_ISREG(st->st_mode)) {
		if (w.check_read) {
			int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0)
				return walk_fail(errno, "file `%s` cannot be read (%s)", path);
			close(fd);
		}
		w.files++;
		w.bytes += st->st_size;
	} else if (S_ISDIR(st->st_mode)) {
		w.dirs++;
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			return walk_fail(errno, "symlink `%s` cannot be read (%s)", path);
		link[n] = 0;
		w.files++;
	} else {
		w.files++;
	}
	/* One record per entry; NUL-separated so no path can fake another. */
	int n = snprintf(rec, sizeof(rec), "%s%c%o %u %u %lld %lld.%09ld %llx%c%s%c",
			 path + w.root_len, 0, st->st_mode, st->st_uid, st->st_gid,
			 (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			 (unsigned long long)st->st_rdev, 0, link, 0);
	EVP_DigestUpdate(w.md, rec, n < (int)sizeof(rec) ? n : (int)sizeof(rec));
	return 0;
}

/*
 * Walks the tree: checks it and computes its key (hex, 64 characters). With
 * check_read it also opens every file, which only an image build needs (mkfs
 * would fail later, and less clearly); a cached image's key is metadata only.
 */
static int tree_key(const struct ign_rootimg *o, int check_read, char key[65],
		    struct ign_err *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	struct stat st;

	if (stat(o->rootfs, &st) < 0)
		return ign_err_set(err, errno, "rootfs `%s`", o->rootfs);
	if (!S_ISDIR(st.st_mode))
		return ign_err_setx(err, ENOTDIR, "rootfs `%s` is not a directory", o->rootfs);
	w = (struct walk){ .md = EVP_MD_CTX_new(), .root_len = strlen(o->rootfs), .err = err,
			   .check_read = check_read };
	if (!w.md || !EVP_DigestInit_ex(w.md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(w.md);
		return ign_err_setx(err, ENOMEM, "sha256");
	}
	EVP_DigestUpdate(w.md, ROOTIMG_FORMAT, sizeof(ROOTIMG_FORMAT));
	EVP_DigestUpdate(w.md, ign_fs_name(o->fs), strlen(ign_fs_name(o->fs)) + 1);
	int r = nftw(o->rootfs, walk_one, 64, FTW_PHYS | FTW_MOUNT);
	if (!w.failed && r != 0)
		ign_err_set(err, errno, "walk `%s`", o->rootfs), w.failed = 1;
	EVP_DigestFinal_ex(w.md, digest, &len);
	EVP_MD_CTX_free(w.md);
	if (w.failed)
		return ign_err_wrap(err, "rootfs `%s`", o->rootfs);
	for (unsigned i = 0; i < 32; i++)
		sprintf(key + 2 * i, "%02x", digest[i]);
	return 0;
}

/* Runs argv with stdout and stderr into a pipe; *out gets the last of it. */
static int run_tool(char *const argv[], char *out, size_t out_len, struct ign_err *err)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ign_err_set(err, errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return ign_err_set(err, r, "run %s (apt-get install %s)", argv[0],
				   strstr(argv[0], "erofs") ? "erofs-utils" : "e2fsprogs");
	}
	size_t n = 0;
	char buf[4096];
	ssize_t k;
	while ((k = read(pipefd[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < k; i++) {  /* keep the tail */
			if (n == out_len - 1)
				memmove(out, out + out_len / 2, n -= out_len / 2);
			out[n++] = buf[i];
		}
	}
	out[n] = 0;
	while (n && out[n - 1] == '\n')
		out[--n] = 0;
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return ign_err_setx(err, EIO, "%s failed: %s", argv[0], out);
	return 0;
}

static int build(const struct ign_rootimg *o, const char *tmp, struct ign_err *err)
{
	char out[1024];
	char size[32], inodes[32];

	if (o->fs == IGN_FS_EROFS) {
		char *argv[] = { "mkfs.erofs", "--quiet", (char *)tmp, (char *)o->rootfs, NULL };
		return run_tool(argv, out, sizeof(out), err);
	}
	/* ext4 needs its size up front: contents, a block per directory, slack. */
	unsigned long long bytes = w.bytes + (w.dirs + w.files) * 4096ULL;
	bytes = bytes + bytes / 5 + (16ULL << 20);
	snprintf(size, sizeof(size), "%lluk", bytes >> 10);
	snprintf(inodes, sizeof(inodes), "%llu", w.files + w.dirs + 1024);
	char *argv[] = { "mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-b", "4096", "-N", inodes,
			 "-L", "ign-root", "-d", (char *)o->rootfs, (char *)tmp, size, NULL };
	return run_tool(argv, out, sizeof(out), err);
}

int ign_rootimg_get(const struct ign_rootimg *o, char **path, int *cached, struct ign_err *err)
{
	char key[65];
	cleanup_free char *final = NULL, *tmp = NULL;
	struct statvfs vfs;
	int r;

	if ((r = tree_key(o, 0, key, err)) < 0)
		return r;
	if ((r = ign_mkdir_p(o->cache_dir, 0755)) < 0)
		return ign_err_set(err, -r, "image cache `%s`", o->cache_dir);
	if (asprintf(&final, "%s/%s.%s", o->cache_dir, key, ign_fs_name(o->fs)) < 0)
		return ign_err_set(err, ENOMEM, "image path");
	if (access(final, F_OK) == 0) {
		*cached = 1;
		*path = steal_ptr(&final);
		return 0;
	}
	/* a build: every file must be readable (and the tree may have changed since) */
	free(final);
	final = NULL;
	if ((r = tree_key(o, 1, key, err)) < 0)
		return r;
	if (asprintf(&final, "%s/%s.%s", o->cache_dir, key, ign_fs_name(o->fs)) < 0)
		return ign_err_set(err, ENOMEM, "image path");
	/* A full disk is better named before mkfs than after. */
	unsigned long long need = w.bytes + (w.files + w.dirs) * 4096ULL;
	if (statvfs(o->cache_dir, &vfs) == 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize < need)
		return ign_err_setx(err, ENOSPC, "image cache `%s`: %llu MiB free, the image of "
				    "`%s` needs about %llu MiB (free some space or use another "
				    "cache directory)", o->cache_dir,
				    (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20, o->rootfs,
				    need >> 20);
	if (o->progress_fd >= 0 && (w.files >= PROGRESS_FILES || w.bytes >= PROGRESS_BYTES))
		dprintf(o->progress_fd, "building the %s image of %s: %llu files, %llu MiB...\n",
			ign_fs_name(o->fs), o->rootfs, w.files + w.dirs, w.bytes >> 20);
	if (asprintf(&tmp, "%s/.tmp-%s-%d", o->cache_dir, key, (int)getpid()) < 0)
		return ign_err_set(err, ENOMEM, "image path");
	if ((r = build(o, tmp, err)) < 0) {
		int full = statvfs(o->cache_dir, &vfs) == 0 &&
			   (unsigned long long)vfs.f_bavail * vfs.f_frsize < (1ULL << 20);
		unlink(tmp);
		if (full)
			return ign_err_setx(err, ENOSPC, "image cache `%s` is full (no space left "
					    "on device); nothing was kept", o->cache_dir);
		return ign_err_wrap(err, "image of `%s`", o->rootfs);
	}
	if (chmod(tmp, 0444) < 0 || rename(tmp, final) < 0) {
		r = ign_err_set(err, errno, "image `%s`", final);
		unlink(tmp);
		return r;
	}
	*cached = 0;
	*path = steal_ptr(&final);
	return 0;
}
