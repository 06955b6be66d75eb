/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 9P2000.L file server over one host directory (the share), for
 * virtio-9p (docs/volumes.md). The guest is untrusted, so:
 *  - every fid holds an O_PATH descriptor; walks go one name at a time with
 *    O_NOFOLLOW, names may not hold '/', and ".." stops at the share's root,
 *    so no request reaches outside the share (symlinks are the guest's to
 *    resolve: the server never follows one);
 *  - files are reopened for I/O through /proc/self/fd, never by path;
 *  - device nodes cannot be made, and set-user/group-ID bits are dropped
 *    from regular files;
 *  - a read-only share refuses every change with EROFS;
 *  - fids, message sizes and reply sizes are bounded.
 * Requests are served one at a time, synchronously; replies are always
 * well formed (Rlerror for anything refused or malformed inside).
 */
#ifndef IGN_P9_H
#define IGN_P9_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define P9_MSIZE_MAX (128u * 1024)  /* mount with msize=131072 */
#define P9_MAX_FIDS 4096

enum {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
};

#define P9_NOFID 0xffffffffu
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02
#define P9_GETATTR_BASIC 0x7ffull
#define P9_SETATTR_MODE 0x1
#define P9_SETATTR_UID 0x2
#define P9_SETATTR_GID 0x4
#define P9_SETATTR_SIZE 0x8
#define P9_SETATTR_ATIME 0x10
#define P9_SETATTR_MTIME 0x20
#define P9_SETATTR_ATIME_SET 0x80
#define P9_SETATTR_MTIME_SET 0x100
#define P9_AT_REMOVEDIR 0x200
#define P9_LOCK_SUCCESS 0
#define P9_LOCK_BLOCKED 1
#define P9_LOCK_ERROR 2

struct p9_server;

/* Serves `root` (a directory); readonly: refuse every change. */
int p9_server_create(const char *root, int readonly, struct p9_server **out,
		     struct ign_err *err);
void p9_server_destroy(struct p9_server *s);

/*
 * Serves one T-message req[0, len) and writes its R-message into out (at
 * most out_max bytes). Returns the reply's length, or <0 with err set when
 * req is not a message at all (too short, or its size field disagrees with
 * len), or when out cannot even hold an Rlerror.
 */
int64_t p9_serve(struct p9_server *s, const uint8_t *req, size_t len, uint8_t *out,
		 size_t out_max, struct ign_err *err);

/* Clunks every fid, as a new Tversion does: the guest's mounts are gone (a reset). */
void p9_server_end_session(struct p9_server *s);
/* Fids in use (tests: a clunk really frees). */
unsigned p9_server_fids(const struct p9_server *s);

#endif
