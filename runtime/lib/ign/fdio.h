/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file and whole-buffer I/O that retries short reads/writes and EINTR. */
#ifndef IGN_FDIO_H
#define IGN_FDIO_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ign/err.h"

/* Reads all of `path` into a malloc'd buffer with a trailing NUL (not counted in *len). */
int ign_read_file(const char *path, size_t max, char **out, size_t *len, struct ign_err *err);
int ign_write_all(int fd, const void *buf, size_t len);  /* 0 or -errno */
ssize_t ign_read_full(int fd, void *buf, size_t len);     /* bytes read (< len at EOF) or -errno */

/*
 * A file by its canonical path and identity, "PATH:dev:ino:size:mtime": two
 * spellings of one path are one id, a replaced or rewritten file is another.
 * `what` names the file in the error.
 */
#define IGN_FILE_ID_MAX (PATH_MAX + 96)
int ign_file_id(const char *what, const char *path, char *out, size_t n, struct ign_err *err);

/* mkdir -p: path and its missing parents; 0 or -errno. */
int ign_mkdir_p(const char *path, mode_t mode);
/* rm -rf, never following symlinks; 0 (also when path is absent) or -errno. */
int ign_rm_rf(const char *path);

#endif
