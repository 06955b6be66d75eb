// SPDX-License-Identifier: Apache-2.0
#include "p9.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "wire.h"

#define P9_NAME_MAX 255
#define P9_MAXWELEM 16
#define P9_MSIZE_MIN 4096

/* Open flags on the wire (9P2000.L's own values, Linux x86's by origin). */
#define P9_DOTL_ACCMODE 3
#define P9_DOTL_TRUNC 01000
#define P9_DOTL_APPEND 02000
#define P9_DOTL_DSYNC 010000
#define P9_DOTL_SYNC 04000000

struct p9_fid {
	int fd;        /* O_PATH (or an open file after lcreate); -1: free */
	int io;        /* open for I/O by lopen/lcreate; -1: not open */
	uint32_t uid;  /* the attaching user: owner of what it creates */
};

struct p9_server {
	int root_fd;
	dev_t root_dev;
	ino_t root_ino;
	int readonly;
	int chown;       /* we are root: new files belong to the guest's uid/gid */
	uint32_t msize;
	unsigned nfids;
	struct p9_fid fids[P9_MAX_FIDS];
};

/* ---- fids ---- */

static struct p9_fid *fid_get(struct p9_server *s, uint32_t fid)
{
	return fid < P9_MAX_FIDS && s->fids[fid].fd >= 0 ? &s->fids[fid] : NULL;
}

/* 0 if fid may become a new fid. */
static int fid_free_slot(struct p9_server *s, uint32_t fid)
{
	if (fid >= P9_MAX_FIDS)
		return -EMFILE;
	return s->fids[fid].fd >= 0 ? -EBADF : 0;
}

static void fid_set(struct p9_server *s, uint32_t fid, int fd, uint32_t uid)
{
	s->fids[fid] = (struct p9_fid){ .fd = fd, .io = -1, .uid = uid };
	s->nfids++;
}

static void fid_clunk(struct p9_server *s, struct p9_fid *f)
{
	close(f->fd);
	if (f->io >= 0)
		close(f->io);
	f->fd = f->io = -1;
	s->nfids--;
}

static void proc_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

static struct p9_qid qid_of(const struct p9_server *s, const struct stat *st)
{
	struct p9_qid q = { .path = st->st_ino };

	q.type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK : 0;
	if (st->st_dev != s->root_dev)  /* a host mount inside the share */
		q.path ^= (uint64_t)st->st_dev << 40;
	return q;
}

/* A name to create, remove or rename: one component, not "." or "..". */
static int get_name(struct p9_rd *r, char out[P9_NAME_MAX + 1])
{
	const char *p;
	uint16_t n = p9_getstr(r, &p);

	out[0] = 0;
	if (r->bad)
		return -EPROTO;
	if (n > P9_NAME_MAX)
		return -ENAMETOOLONG;
	if (!n || memchr(p, '/', n) || memchr(p, 0, n))
		return -EINVAL;
	memcpy(out, p, n);
	out[n] = 0;
	return strcmp(out, ".") && strcmp(out, "..") ? 0 : -EINVAL;
}

/* Linux mode bits for a new or changed file: no set-user/group-ID on files. */
static mode_t safe_mode(uint32_t mode, int is_dir)
{
	mode &= 07777;
	return is_dir ? mode & ~S_ISUID : mode & ~(S_ISUID | S_ISGID);
}

/* ---- session ---- */

static int t_version(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	uint32_t msize = p9_get32(r);
	const char *v;
	uint16_t n = p9_getstr(r, &v);

	if (r->bad)
		return -EPROTO;
	if (msize < P9_MSIZE_MIN)
		return -EINVAL;
	p9_server_end_session(s);  /* a new session */
	s->msize = msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX;
	int ok = n == 8 && !memcmp(v, "9P2000.L", 8);
	p9_put32(w, s->msize);
	p9_putstr(w, ok ? "9P2000.L" : "unknown", ok ? 8 : 7);
	return 0;
}

static int t_attach(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	uint32_t fid = p9_get32(r);
	const char *str;
	struct stat st;
	int e;

	p9_skip(r, 4);  /* afid: no authentication */
	p9_getstr(r, &str);
	p9_getstr(r, &str);  /* aname: one tree per device */
	uint32_t uid = p9_get32(r);
	if (r->bad)
		return -EPROTO;
	if ((e = fid_free_slot(s, fid)) < 0)
		return e;
	if (s->root_fd < 0)
		return -ENXIO;  /* an empty slot */
	int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	fid_set(s, fid, fd, uid == P9_NOFID ? 0 : uid);
	struct p9_qid q = qid_of(s, &st);
	p9_putqid(w, &q);
	return 0;
}

static int t_walk(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	uint32_t fid = p9_get32(r), newfid = p9_get32(r);
	uint16_t n = p9_get16(r);
	const char *names[P9_MAXWELEM];
	uint16_t lens[P9_MAXWELEM];
	struct p9_qid qids[P9_MAXWELEM];
	struct p9_fid *f;
	struct stat st;
	unsigned done = 0;
	int e = 0;

	if (n > P9_MAXWELEM)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		lens[i] = p9_getstr(r, &names[i]);
	if (r->bad)
		return -EPROTO;
	if (!(f = fid_get(s, fid)))
		return -EBADF;
	if (newfid != fid && (e = fid_free_slot(s, newfid)) < 0)
		return e;
	int cur = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0 || fstat(cur, &st) < 0) {
		e = -errno;
		if (cur >= 0)
			close(cur);
		return e;
	}
	for (; done < n; done++) {
		char name[P9_NAME_MAX + 1];
		int next;

		if (lens[done] > P9_NAME_MAX) {
			e = -ENAMETOOLONG;
			break;
		}
		if (!lens[done] || memchr(names[done], '/', lens[done]) ||
		    memchr(names[done], 0, lens[done])) {
			e = -EINVAL;
			break;
		}
		memcpy(name, names[done], lens[done]);
		name[lens[done]] = 0;
		int at_root = st.st_dev == s->root_dev && st.st_ino == s->root_ino;
		if (!strcmp(name, ".") || (!strcmp(name, "..") && at_root))
			next = fcntl(cur, F_DUPFD_CLOEXEC, 0);  /* ".." stops at the share's root */
		else
			next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &st) < 0) {
			e = -errno;
			if (next >= 0)
				close(next);
			break;
		}
		qids[done] = qid_of(s, &st);
		close(cur);
		cur = next;
	}
	if (done < n) {
		close(cur);
		if (!done)
			return e;
	} else if (newfid == fid) {
		close(f->fd);
		f->fd = cur;
	} else {
		fid_set(s, newfid, cur, f->uid);
	}
	p9_put16(w, done);  /* a partial walk: the qids so far, newfid not made */
	for (unsigned i = 0; i < done; i++)
		p9_putqid(w, &qids[i]);
	return 0;
}

static int t_clunk(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	fid_clunk(s, f);
	return 0;
}

/* Tremove and Trename: Linux uses unlinkat and renameat, and falls back only on EOPNOTSUPP. */
static int t_remove(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	int e = t_clunk(s, r, w);

	return e < 0 ? e : -EOPNOTSUPP;
}

/* ---- files ---- */

static int open_flags(uint32_t flags)
{
	int o = (int)(flags & P9_DOTL_ACCMODE) | O_CLOEXEC | O_NOCTTY;

	if (flags & P9_DOTL_TRUNC)
		o |= O_TRUNC;
	if (flags & P9_DOTL_APPEND)
		o |= O_APPEND;
	if (flags & P9_DOTL_DSYNC)
		o |= O_DSYNC;
	if (flags & P9_DOTL_SYNC)
		o |= O_SYNC;
	return o;
}

static int writes(uint32_t flags)
{
	return (flags & P9_DOTL_ACCMODE) != O_RDONLY || (flags & P9_DOTL_TRUNC);
}

static int t_lopen(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint32_t flags = p9_get32(r);
	struct stat st;
	char path[32];

	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	if (f->io >= 0 || (flags & P9_DOTL_ACCMODE) == 3)
		return -EINVAL;
	if (s->readonly && writes(flags))
		return -EROFS;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EOPNOTSUPP;  /* fifos, sockets and devices are the guest's own */
	proc_path(f->fd, path);
	int io = open(path, open_flags(flags) | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (io < 0)
		return -errno;
	f->io = io;
	struct p9_qid q = qid_of(s, &st);
	p9_putqid(w, &q);
	p9_put32(w, 0);  /* iounit: msize decides */
	return 0;
}

static int t_lcreate(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1];
	int e = get_name(r, name);
	uint32_t flags = p9_get32(r), mode = p9_get32(r), gid = p9_get32(r);
	struct stat st;

	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!f)
		return -EBADF;
	if (f->io >= 0 || (flags & P9_DOTL_ACCMODE) == 3)
		return -EINVAL;
	if (s->readonly)
		return -EROFS;
	mode_t m = safe_mode(mode, 0);
	int io = openat(f->fd, name, open_flags(flags) | O_CREAT | O_EXCL | O_NOFOLLOW, m);
	if (io < 0)
		return -errno;
	fchmod(io, m);  /* not our umask */
	if (s->chown && fchown(io, f->uid, gid) < 0) {
		/* the new file stays ours */
	}
	int fd = fcntl(io, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || fstat(io, &st) < 0) {
		e = -errno;
		if (fd >= 0)
			close(fd);
		close(io);
		return e;
	}
	close(f->fd);  /* the fid is now the new file */
	f->fd = fd;
	f->io = io;
	struct p9_qid q = qid_of(s, &st);
	p9_putqid(w, &q);
	p9_put32(w, 0);
	return 0;
}

/* After mkdir, mknod or symlink: owner, exact mode, and the qid in the reply. */
static int made(struct p9_server *s, struct p9_fid *dir, const char *name, mode_t mode,
		uint32_t gid, struct p9_wr *w)
{
	struct stat st;

	if (s->chown && fchownat(dir->fd, name, dir->uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		/* stays ours */
	}
	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode) && (st.st_mode & 07777) != mode &&
	    fchmodat(dir->fd, name, mode, 0) == 0)
		st.st_mode = (st.st_mode & S_IFMT) | mode;
	struct p9_qid q = qid_of(s, &st);
	p9_putqid(w, &q);
	return 0;
}

static int t_mkdir(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *d = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1];
	int e = get_name(r, name);
	uint32_t mode = p9_get32(r), gid = p9_get32(r);

	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!d)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (mkdirat(d->fd, name, safe_mode(mode, 1)) < 0)
		return -errno;
	return made(s, d, name, safe_mode(mode, 1), gid, w);
}

static int t_mknod(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *d = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1];
	int e = get_name(r, name);
	uint32_t mode = p9_get32(r);

	p9_skip(r, 8);  /* major, minor: no devices */
	uint32_t gid = p9_get32(r);
	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!d)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode))
		return -EPERM;  /* a device node would open the host's device */
	if (mknodat(d->fd, name, (mode & S_IFMT) | safe_mode(mode, 0), 0) < 0)
		return -errno;
	return made(s, d, name, safe_mode(mode, 0), gid, w);
}

static int t_symlink(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *d = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1], target[PATH_MAX];
	int e = get_name(r, name);
	const char *t;
	uint16_t n = p9_getstr(r, &t);
	uint32_t gid = p9_get32(r);

	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!d)
		return -EBADF;
	if (!n || memchr(t, 0, n))
		return -EINVAL;
	if (n >= sizeof(target))
		return -ENAMETOOLONG;
	if (s->readonly)
		return -EROFS;
	memcpy(target, t, n);
	target[n] = 0;
	if (symlinkat(target, d->fd, name) < 0)
		return -errno;
	return made(s, d, name, 0777, gid, w);
}

static int t_link(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *d = fid_get(s, p9_get32(r)), *f = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1], path[32];
	int e = get_name(r, name);

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!d || !f)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	proc_path(f->fd, path);
	return linkat(AT_FDCWD, path, d->fd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int t_renameat(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *a = fid_get(s, p9_get32(r));
	char from[P9_NAME_MAX + 1], to[P9_NAME_MAX + 1];
	int e1 = get_name(r, from);
	struct p9_fid *b = fid_get(s, p9_get32(r));
	int e2 = get_name(r, to);

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (e1 < 0 || e2 < 0)
		return e1 < 0 ? e1 : e2;
	if (!a || !b)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	return renameat(a->fd, from, b->fd, to) < 0 ? -errno : 0;
}

static int t_unlinkat(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *d = fid_get(s, p9_get32(r));
	char name[P9_NAME_MAX + 1];
	int e = get_name(r, name);
	uint32_t flags = p9_get32(r);

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (e < 0)
		return e;
	if (!d)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	return unlinkat(d->fd, name, flags & P9_AT_REMOVEDIR ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
}

static int t_readlink(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	char target[PATH_MAX];

	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	ssize_t n = readlinkat(f->fd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(target))
		return -ENAMETOOLONG;
	p9_putstr(w, target, n);
	return 0;
}

static int t_getattr(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	struct stat st;

	p9_skip(r, 8);  /* request_mask: the basic set is always there */
	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	struct p9_qid q = qid_of(s, &st);
	p9_put64(w, P9_GETATTR_BASIC);
	p9_putqid(w, &q);
	p9_put32(w, st.st_mode);
	p9_put32(w, st.st_uid);
	p9_put32(w, st.st_gid);
	p9_put64(w, st.st_nlink);
	p9_put64(w, st.st_rdev);
	p9_put64(w, st.st_size);
	p9_put64(w, st.st_blksize);
	p9_put64(w, st.st_blocks);
	p9_put64(w, st.st_atim.tv_sec);
	p9_put64(w, st.st_atim.tv_nsec);
	p9_put64(w, st.st_mtim.tv_sec);
	p9_put64(w, st.st_mtim.tv_nsec);
	p9_put64(w, st.st_ctim.tv_sec);
	p9_put64(w, st.st_ctim.tv_nsec);
	for (unsigned i = 0; i < 4; i++)
		p9_put64(w, 0);  /* btime, gen, data_version: not given */
	return 0;
}

static struct timespec set_time(uint32_t valid, uint32_t bit, uint32_t set_bit, uint64_t sec,
				uint64_t nsec)
{
	if (!(valid & bit))
		return (struct timespec){ .tv_nsec = UTIME_OMIT };
	if (!(valid & set_bit))
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = (long)nsec };
}

static int t_setattr(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint32_t valid = p9_get32(r), mode = p9_get32(r), uid = p9_get32(r), gid = p9_get32(r);
	uint64_t size = p9_get64(r);
	uint64_t as = p9_get64(r), an = p9_get64(r), ms = p9_get64(r), mn = p9_get64(r);
	struct stat st;
	char path[32];

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (((valid & P9_SETATTR_ATIME_SET) && an >= 1000000000) ||
	    ((valid & P9_SETATTR_MTIME_SET) && mn >= 1000000000) || size > INT64_MAX)
		return -EINVAL;
	proc_path(f->fd, path);
	if ((valid & P9_SETATTR_MODE) &&
	    fchmodat(AT_FDCWD, path, safe_mode(mode, S_ISDIR(st.st_mode)), 0) < 0)
		return -errno;
	if ((valid & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
	    fchownat(f->fd, "", valid & P9_SETATTR_UID ? uid : (uint32_t)-1,
		     valid & P9_SETATTR_GID ? gid : (uint32_t)-1, AT_EMPTY_PATH) < 0)
		return -errno;
	if ((valid & P9_SETATTR_SIZE) && truncate(path, (off_t)size) < 0)
		return -errno;
	if (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) {
		struct timespec ts[2] = {
			set_time(valid, P9_SETATTR_ATIME, P9_SETATTR_ATIME_SET, as, an),
			set_time(valid, P9_SETATTR_MTIME, P9_SETATTR_MTIME_SET, ms, mn),
		};
		if (utimensat(AT_FDCWD, path, ts, 0) < 0)
			return -errno;
	}
	return 0;
}

static int t_statfs(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	struct statfs sf;

	if (r->bad)
		return -EPROTO;
	if (!f)
		return -EBADF;
	if (fstatfs(f->fd, &sf) < 0)
		return -errno;
	p9_put32(w, sf.f_type);
	p9_put32(w, sf.f_bsize);
	p9_put64(w, sf.f_blocks);
	p9_put64(w, sf.f_bfree);
	p9_put64(w, sf.f_bavail);
	p9_put64(w, sf.f_files);
	p9_put64(w, sf.f_ffree);
	p9_put64(w, (uint64_t)(uint32_t)sf.f_fsid.__val[0] |
		    (uint64_t)(uint32_t)sf.f_fsid.__val[1] << 32);
	p9_put32(w, sf.f_namelen);
	return 0;
}

/* ---- I/O ---- */

static int t_read(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint64_t off = p9_get64(r);
	uint32_t count = p9_get32(r);
	ssize_t n;

	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return -EINVAL;
	size_t at = w->off;
	p9_put32(w, 0);
	size_t room = w->cap - w->off;
	if (count > room)
		count = room;  /* the reply must fit the guest's buffer */
	uint8_t *dst = p9_room(w, count);
	while ((n = pread(f->io, dst, count, (off_t)off)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	w->off = at;
	p9_put32(w, n);
	w->off += n;
	return 0;
}

static int t_write(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint64_t off = p9_get64(r);
	uint32_t count = p9_get32(r);
	const uint8_t *data = p9_take(r, count);
	ssize_t n;

	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (off > INT64_MAX)
		return -EINVAL;
	while ((n = pwrite(f->io, data, count, (off_t)off)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	p9_put32(w, n);
	return 0;
}

static int t_readdir(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint64_t off = p9_get64(r);
	uint32_t count = p9_get32(r);
	uint8_t buf[16384];

	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return -EINVAL;
	if (lseek(f->io, (off_t)off, SEEK_SET) < 0)
		return -errno;
	ssize_t n = getdents64(f->io, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	size_t at = w->off;
	p9_put32(w, 0);
	size_t start = w->off;
	if (count > w->cap - start)
		count = w->cap - start;
	for (ssize_t i = 0; i < n;) {
		struct dirent64 *d = (struct dirent64 *)(buf + i);
		size_t len = strlen(d->d_name);
		struct p9_qid q = { .path = d->d_ino };

		if (w->off - start + 13 + 8 + 1 + 2 + len > count)
			break;  /* the next call starts at the last offset sent */
		q.type = d->d_type == DT_DIR ? P9_QTDIR : d->d_type == DT_LNK ? P9_QTSYMLINK : 0;
		p9_putqid(w, &q);
		p9_put64(w, d->d_off);
		p9_put8(w, d->d_type);
		p9_putstr(w, d->d_name, len);
		i += d->d_reclen;
	}
	size_t end = w->off;
	w->off = at;
	p9_put32(w, end - start);
	w->off = end;
	return 0;
}

static int t_fsync(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint32_t datasync = r->len - r->off >= 4 ? p9_get32(r) : 0;

	(void)w;
	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	return (datasync ? fdatasync(f->io) : fsync(f->io)) < 0 ? -errno : 0;
}

/*
 * Record locks are open file description locks on the fid's own open file:
 * each guest open is one fid, so locks between guest processes (and with
 * the host) conflict as they should. Blocking is the guest's: it retries.
 */
/* A 9P lock range as a struct flock; -EINVAL for a type or range that is not one. */
static int make_flock(uint8_t type, uint64_t start, uint64_t len, struct flock *fl)
{
	int t = type == 0 ? F_RDLCK : type == 1 ? F_WRLCK : type == 2 ? F_UNLCK : -1;

	if (t < 0 || start > INT64_MAX || len > INT64_MAX)
		return -EINVAL;
	*fl = (struct flock){ .l_type = t, .l_whence = SEEK_SET, .l_start = (off_t)start,
			      .l_len = (off_t)len };
	return 0;
}

static int t_lock(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint8_t type = p9_get8(r);
	const char *cid;

	p9_skip(r, 4);  /* flags: blocking is retried by the guest */
	uint64_t start = p9_get64(r), len = p9_get64(r);
	p9_skip(r, 4);  /* proc_id */
	p9_getstr(r, &cid);
	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	struct flock fl;
	int e = make_flock(type, start, len, &fl);
	if (e < 0)
		return e;
	uint8_t status = P9_LOCK_SUCCESS;
	if (fcntl(f->io, F_OFD_SETLK, &fl) < 0)
		status = errno == EAGAIN || errno == EACCES ? P9_LOCK_BLOCKED : P9_LOCK_ERROR;
	p9_put8(w, status);
	return 0;
}

static int t_getlock(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	struct p9_fid *f = fid_get(s, p9_get32(r));
	uint8_t type = p9_get8(r);
	uint64_t start = p9_get64(r), len = p9_get64(r);
	uint32_t pid = p9_get32(r);
	const char *cid;
	uint16_t cn = p9_getstr(r, &cid);

	if (r->bad)
		return -EPROTO;
	if (!f || f->io < 0)
		return -EBADF;
	struct flock fl;
	int e = make_flock(type, start, len, &fl);
	if (e < 0)
		return e;
	if (fcntl(f->io, F_OFD_GETLK, &fl) < 0)
		return -errno;
	p9_put8(w, fl.l_type == F_RDLCK ? 0 : fl.l_type == F_WRLCK ? 1 : 2);
	p9_put64(w, fl.l_start);
	p9_put64(w, fl.l_len);
	p9_put32(w, fl.l_type == F_UNLCK ? pid : (uint32_t)fl.l_pid);
	p9_putstr(w, cid, cn);
	return 0;
}

static int t_flush(struct p9_server *s, struct p9_rd *r, struct p9_wr *w)
{
	(void)s, (void)w;
	p9_skip(r, 2);  /* every request is answered before the next is read */
	return r->bad ? -EPROTO : 0;
}

typedef int (*p9_handler)(struct p9_server *s, struct p9_rd *r, struct p9_wr *w);

static const p9_handler handlers[256] = {
	[P9_TVERSION] = t_version, [P9_TATTACH] = t_attach, [P9_TWALK] = t_walk,
	[P9_TCLUNK] = t_clunk, [P9_TREMOVE] = t_remove, [P9_TFLUSH] = t_flush,
	[P9_TLOPEN] = t_lopen, [P9_TLCREATE] = t_lcreate, [P9_TMKDIR] = t_mkdir,
	[P9_TMKNOD] = t_mknod, [P9_TSYMLINK] = t_symlink, [P9_TLINK] = t_link,
	[P9_TRENAMEAT] = t_renameat, [P9_TUNLINKAT] = t_unlinkat, [P9_TREADLINK] = t_readlink,
	[P9_TGETATTR] = t_getattr, [P9_TSETATTR] = t_setattr, [P9_TSTATFS] = t_statfs,
	[P9_TREAD] = t_read, [P9_TWRITE] = t_write, [P9_TREADDIR] = t_readdir,
	[P9_TFSYNC] = t_fsync, [P9_TLOCK] = t_lock, [P9_TGETLOCK] = t_getlock,
	/* Tauth, Trename, Txattrwalk, Txattrcreate: EOPNOTSUPP (no xattrs, no auth) */
};

int64_t p9_serve(struct p9_server *s, const uint8_t *req, size_t len, uint8_t *out,
		 size_t out_max, struct ign_err *err)
{
	struct p9_rd r = { .p = req, .len = len };
	uint32_t size = p9_get32(&r);
	uint8_t type = p9_get8(&r);
	uint16_t tag = p9_get16(&r);

	if (r.bad || size < P9_HDR || size > len)
		return ign_err_setx(err, EPROTO, "9P message of %zu bytes says it has %u", len,
				    size);
	if (out_max < P9_HDR + 4)
		return ign_err_setx(err, EPROTO, "9P reply buffer of %zu bytes", out_max);
	r.len = size;
	struct p9_wr w = { .p = out, .cap = out_max < s->msize ? out_max : s->msize };
	p9_begin(&w, type + 1, tag);
	int e = handlers[type] ? handlers[type](s, &r, &w) : -EOPNOTSUPP;
	if (!e && w.over)
		e = -EMSGSIZE;
	if (e < 0) {
		p9_begin(&w, P9_RLERROR, tag);
		p9_put32(&w, -e);
	}
	return p9_end(&w);
}

int p9_server_create(const char *root, int readonly, struct p9_server **out,
		     struct ign_err *err)
{
	cleanup_close int fd = root ? open(root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	struct stat st = { 0 };
	struct rlimit rl;

	if (root && (fd < 0 || fstat(fd, &st) < 0))
		return ign_err_set(err, errno, "shared directory `%s`", root);
	if (access("/proc/self/fd", X_OK) < 0)
		return ign_err_set(err, errno, "shared directory `%s`: /proc is needed to open "
				   "its files", root);
	struct p9_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ign_err_set(err, ENOMEM, "shared directory `%s`", root);
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		s->fids[i].fd = s->fids[i].io = -1;
	s->root_fd = steal_fd(&fd);
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	s->readonly = readonly;
	s->chown = geteuid() == 0;
	s->msize = P9_MSIZE_MAX;
	/* up to two descriptors a fid: take the hard limit (best effort) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	*out = s;
	return 0;
}

void p9_server_end_session(struct p9_server *s)
{
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		if (s->fids[i].fd >= 0)
			fid_clunk(s, &s->fids[i]);
}

void p9_server_destroy(struct p9_server *s)
{
	if (!s)
		return;
	p9_server_end_session(s);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}

unsigned p9_server_fids(const struct p9_server *s)
{
	return s->nfids;
}
