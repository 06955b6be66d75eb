// SPDX-License-Identifier: Apache-2.0
#include "ign/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ign/cleanup.h"

int ign_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

ssize_t ign_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int ign_read_file(const char *path, size_t max, char **out, size_t *len, struct ign_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	struct stat st;

	if (fd < 0)
		return ign_err_set(err, errno, "open `%s`", path);
	if (fstat(fd, &st) < 0)
		return ign_err_set(err, errno, "stat `%s`", path);
	if (!S_ISREG(st.st_mode))
		return ign_err_setx(err, EINVAL, "`%s` is not a regular file", path);
	if ((size_t)st.st_size > max)
		return ign_err_setx(err, EFBIG, "`%s` is too large (%lld bytes, limit %zu)", path,
				    (long long)st.st_size, max);
	buf = malloc(st.st_size + 1);
	if (!buf)
		return ign_err_set(err, ENOMEM, "read `%s`", path);
	ssize_t n = ign_read_full(fd, buf, st.st_size);
	if (n < 0)
		return ign_err_set(err, -n, "read `%s`", path);
	if (n != st.st_size)
		return ign_err_setx(err, EIO, "read `%s`: file changed while reading", path);
	buf[n] = '\0';
	*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

int ign_file_id(const char *what, const char *path, char *out, size_t n, struct ign_err *err)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real) || stat(real, &st) < 0)
		return ign_err_set(err, errno, "%s `%s`", what, path);
	snprintf(out, n, "%s:%llx:%llx:%lld:%lld.%09ld", real, (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	return 0;
}

int ign_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int ign_rm_rf(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
