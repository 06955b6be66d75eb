// SPDX-License-Identifier: Apache-2.0
/*
 * The 9P2000.L server against a real temporary directory: what a guest does
 * through it must show on the host (and back), and nothing it sends may reach
 * outside the share or make what the server must refuse.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p9/p9.h"
#include "p9/wire.h"
#include "snapshot/snapfile.h"
#include "virtio/9p.h"

static char dir[64], path[256];
static struct p9_server *srv;
static uint8_t req[P9_MSIZE_MAX], rep[P9_MSIZE_MAX];
static struct p9_wr m;
static struct p9_rd r;   /* the reply, after its header */
static size_t rep_max = sizeof(rep);

static const char *host(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void start(int readonly)
{
	struct ign_err err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/ign-p9-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(p9_server_create(dir, readonly, &srv, &err), 0, "%s", err.msg);
}

static void rw_share(void) { start(0); }
static void ro_share(void) { start(1); }

static void stop(void)
{
	char cmd[128];

	p9_server_destroy(srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void T(uint8_t type)
{
	m = (struct p9_wr){ .p = req, .cap = sizeof(req) };
	p9_begin(&m, type, 7);
}

/* Sends the message built since T(); returns the reply's type. */
static uint8_t send(void)
{
	struct ign_err err = { 0 };
	size_t n = p9_end(&m);

	cr_assert_gt(n, 0);
	int64_t len = p9_serve(srv, req, n, rep, rep_max, &err);
	cr_assert_gt(len, 0, "%s", err.msg);
	r = (struct p9_rd){ .p = rep, .len = (size_t)len };
	cr_assert_eq(p9_get32(&r), (uint32_t)len, "the size field is the reply's length");
	uint8_t type = p9_get8(&r);
	cr_assert_eq(p9_get16(&r), 7, "the tag comes back");
	return type;
}

/* Sends; 0 on success (reply type `type + 1`), else the Rlerror errno. */
static int call(void)
{
	uint8_t want = req[4] + 1, got = send();

	if (got == P9_RLERROR)
		return (int)p9_get32(&r);
	cr_assert_eq(got, want, "reply type %u to T-message %u", got, req[4]);
	return 0;
}

static void pstr(const char *s) { p9_putstr(&m, s, strlen(s)); }

static struct p9_qid getqid(void)
{
	struct p9_qid q;

	q.type = p9_get8(&r);
	q.version = p9_get32(&r);
	q.path = p9_get64(&r);
	return q;
}

/* Builds a Tattach of the share's root to fid, as uid 0. */
static void tattach(uint32_t fid)
{
	T(P9_TATTACH);
	p9_put32(&m, fid);
	p9_put32(&m, P9_NOFID);
	pstr("root");
	pstr("");
	p9_put32(&m, 0);
}

static struct p9_qid attach(uint32_t fid)
{
	T(P9_TVERSION);
	p9_put32(&m, 1 << 20);
	pstr("9P2000.L");
	cr_assert_eq(call(), 0);
	cr_assert_eq(p9_get32(&r), P9_MSIZE_MAX, "msize is capped at ours");
	tattach(fid);
	cr_assert_eq(call(), 0);
	return getqid();
}

static int walk(uint32_t fid, uint32_t newfid, int n, const char **names)
{
	T(P9_TWALK);
	p9_put32(&m, fid);
	p9_put32(&m, newfid);
	p9_put16(&m, n);
	for (int i = 0; i < n; i++)
		pstr(names[i]);
	return call();
}

static int walk1(uint32_t fid, uint32_t newfid, const char *name)
{
	return walk(fid, newfid, 1, &name);
}

static int lopen(uint32_t fid, uint32_t flags)
{
	T(P9_TLOPEN);
	p9_put32(&m, fid);
	p9_put32(&m, flags);
	return call();
}

static int lcreate(uint32_t fid, const char *name, uint32_t flags, uint32_t mode)
{
	T(P9_TLCREATE);
	p9_put32(&m, fid);
	pstr(name);
	p9_put32(&m, flags);
	p9_put32(&m, mode);
	p9_put32(&m, 0);
	return call();
}

static int pwrite9(uint32_t fid, uint64_t off, const char *data)
{
	T(P9_TWRITE);
	p9_put32(&m, fid);
	p9_put64(&m, off);
	p9_put32(&m, strlen(data));
	p9_putmem(&m, data, strlen(data));
	return call();
}

/* Reads into buf (NUL-terminated); returns the count or -errno. */
static int pread9(uint32_t fid, uint64_t off, uint32_t count, char *buf)
{
	T(P9_TREAD);
	p9_put32(&m, fid);
	p9_put64(&m, off);
	p9_put32(&m, count);
	int e = call();
	if (e)
		return -e;
	uint32_t n = p9_get32(&r);
	const uint8_t *d = p9_take(&r, n);
	cr_assert_not_null(d);
	memcpy(buf, d, n);
	buf[n] = 0;
	return (int)n;
}

static int mkdir9(uint32_t fid, const char *name, uint32_t mode)
{
	T(P9_TMKDIR);
	p9_put32(&m, fid);
	pstr(name);
	p9_put32(&m, mode);
	p9_put32(&m, 0);
	return call();
}

static int clunk(uint32_t fid)
{
	T(P9_TCLUNK);
	p9_put32(&m, fid);
	return call();
}

static void put_file(const char *name, const char *data)
{
	FILE *f = fopen(host(name), "w");

	cr_assert_not_null(f);
	fputs(data, f);
	fclose(f);
}

static char *get_file(const char *name)
{
	static char buf[4096];
	FILE *f = fopen(host(name), "r");

	if (!f)
		return NULL;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
	fclose(f);
	return buf;
}

TestSuite(p9, .init = rw_share, .fini = stop);

Test(p9, attach_walk_getattr)
{
	struct stat st;

	put_file("hello", "hello from the host\n");
	struct p9_qid root = attach(0);
	cr_assert_eq(root.type, P9_QTDIR);
	cr_assert_eq(walk1(0, 1, "hello"), 0);
	cr_assert_eq(p9_get16(&r), 1);
	struct p9_qid q = getqid();
	cr_assert_eq(stat(host("hello"), &st), 0);
	cr_assert_eq(q.path, st.st_ino, "the qid is the inode");
	cr_assert_eq(q.type, 0);

	T(P9_TGETATTR);
	p9_put32(&m, 1);
	p9_put64(&m, P9_GETATTR_BASIC);
	cr_assert_eq(call(), 0);
	cr_assert_eq(p9_get64(&r), P9_GETATTR_BASIC);
	getqid();
	cr_assert_eq(p9_get32(&r), st.st_mode);
	p9_skip(&r, 4 + 4 + 8 + 8);
	cr_assert_eq(p9_get64(&r), 20, "size");

	char buf[64];
	cr_assert_eq(lopen(1, O_RDONLY), 0);
	cr_assert_eq(pread9(1, 6, 9, buf), 9);
	cr_assert_str_eq(buf, "from the ");
	cr_assert_eq(walk1(0, 2, "missing"), ENOENT);
	cr_assert_eq(p9_server_fids(srv), 2);
	cr_assert_eq(clunk(1), 0);
	cr_assert_eq(p9_server_fids(srv), 1, "clunk frees the fid");
	cr_assert_eq(clunk(1), EBADF);
	/* a reset: the guest that had the mount is gone */
	cr_assert_eq(walk1(0, 3, "hello"), 0);
	cr_assert_eq(p9_server_fids(srv), 2);
	p9_server_end_session(srv);
	cr_assert_eq(p9_server_fids(srv), 0);
	cr_assert_eq(walk1(0, 4, "hello"), EBADF, "the root fid went too");
}

Test(p9, create_write_read_back_on_the_host)
{
	struct stat st;
	char buf[64];

	attach(0);
	cr_assert_eq(walk(0, 1, 0, NULL), 0, "a walk of no names clones the fid");
	cr_assert_eq(lcreate(1, "out", O_RDWR, 04750), 0);
	cr_assert_eq(pwrite9(1, 0, "written by the guest"), 0);
	cr_assert_eq(p9_get32(&r), 20);
	cr_assert_str_eq(get_file("out"), "written by the guest");
	cr_assert_eq(stat(host("out"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0750, "mode exactly, set-user-ID dropped (got %o)",
		     st.st_mode & 07777);

	put_file("out", "host rewrote it");
	cr_assert_eq(pread9(1, 0, 100, buf), 15);
	cr_assert_str_eq(buf, "host rewrote it", "the guest sees the host's change at once");

	/* truncate and times through setattr */
	T(P9_TSETATTR);
	p9_put32(&m, 1);
	p9_put32(&m, P9_SETATTR_SIZE | P9_SETATTR_MTIME | P9_SETATTR_MTIME_SET | P9_SETATTR_MODE);
	p9_put32(&m, 06644);
	p9_put32(&m, 0), p9_put32(&m, 0);
	p9_put64(&m, 4);
	p9_put64(&m, 0), p9_put64(&m, 0);
	p9_put64(&m, 1000000000), p9_put64(&m, 5);
	cr_assert_eq(call(), 0);
	cr_assert_eq(stat(host("out"), &st), 0);
	cr_assert_eq(st.st_size, 4);
	cr_assert_eq(st.st_mtim.tv_sec, 1000000000);
	cr_assert_eq(st.st_mode & 07777, 0644, "chmod drops set-user/group-ID too");

	cr_assert_eq(walk(0, 2, 0, NULL), 0);
	cr_assert_eq(lcreate(2, "out", O_RDWR, 0644), EEXIST, "create never replaces");
	cr_assert_eq(lcreate(1, "x", O_RDWR, 0644), EINVAL, "fid 1 is the open file now");
}

static int readdir_names(uint32_t fid, char *names, size_t cap)
{
	uint64_t off = 0;
	int n = 0;

	names[0] = 0;
	for (;;) {
		T(P9_TREADDIR);
		p9_put32(&m, fid);
		p9_put64(&m, off);
		p9_put32(&m, 100);  /* small: several calls */
		cr_assert_eq(call(), 0);
		uint32_t count = p9_get32(&r);
		if (!count)
			return n;
		size_t end = r.off + count;
		while (r.off < end) {
			const char *s;
			getqid();
			off = p9_get64(&r);
			p9_get8(&r);
			uint16_t len = p9_getstr(&r, &s);
			snprintf(names + strlen(names), cap - strlen(names), "%.*s ", len, s);
			n++;
		}
		cr_assert(!r.bad);
	}
}

Test(p9, directories_readdir_rename_unlink)
{
	char names[1024];
	struct stat st;

	attach(0);
	cr_assert_eq(mkdir9(0, "d", 02775), 0);
	cr_assert_eq(stat(host("d"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 02775, "directories keep set-group-ID");
	for (int i = 0; i < 12; i++) {
		char n[16];
		snprintf(n, sizeof(n), "file-%02d", i);
		put_file(n, "x");
	}
	cr_assert_eq(walk(0, 1, 0, NULL), 0);
	cr_assert_eq(lopen(1, O_RDONLY | 0200000), 0);
	cr_assert_eq(readdir_names(1, names, sizeof(names)), 15, "12 files, d, ., ..: %s", names);
	cr_assert_not_null(strstr(names, "file-11 "));
	cr_assert_not_null(strstr(names, "d "));

	T(P9_TRENAMEAT);
	p9_put32(&m, 0), pstr("file-00"), p9_put32(&m, 0), pstr("renamed");
	cr_assert_eq(call(), 0);
	cr_assert_str_eq(get_file("renamed"), "x");
	cr_assert_null(get_file("file-00"));

	T(P9_TUNLINKAT);
	p9_put32(&m, 0), pstr("renamed"), p9_put32(&m, 0);
	cr_assert_eq(call(), 0);
	cr_assert_neq(stat(host("renamed"), &st), 0);
	T(P9_TUNLINKAT);
	p9_put32(&m, 0), pstr("d"), p9_put32(&m, 0);
	cr_assert_eq(call(), EISDIR);
	T(P9_TUNLINKAT);
	p9_put32(&m, 0), pstr("d"), p9_put32(&m, P9_AT_REMOVEDIR);
	cr_assert_eq(call(), 0);
	cr_assert_neq(stat(host("d"), &st), 0);
}

Test(p9, symlinks_are_never_followed_by_the_server)
{
	char target[64];

	attach(0);
	cr_assert_eq(symlink("/etc", host("escape")), 0);
	cr_assert_eq(walk1(0, 1, "escape"), 0);
	p9_get16(&r);
	cr_assert_eq(getqid().type, P9_QTSYMLINK, "the walk stops on the link itself");
	T(P9_TREADLINK);
	p9_put32(&m, 1);
	cr_assert_eq(call(), 0);
	const char *s;
	uint16_t n = p9_getstr(&r, &s);
	snprintf(target, sizeof(target), "%.*s", n, s);
	cr_assert_str_eq(target, "/etc");
	const char *through[] = { "escape", "passwd" };
	cr_assert_eq(walk(0, 2, 2, through), 0);
	cr_assert_eq(p9_get16(&r), 1, "no walk goes through a link: it stops before `passwd`");
	cr_assert_eq(p9_server_fids(srv), 2, "and a partial walk makes no fid");
	cr_assert_eq(lopen(1, O_RDONLY), ELOOP);
	cr_assert_eq(lcreate(1, "x", O_RDWR, 0644), ENOTDIR);

	/* a link the guest makes is the guest's: it stays a link on the host */
	T(P9_TSYMLINK);
	p9_put32(&m, 0), pstr("mine"), pstr("../../../etc/shadow"), p9_put32(&m, 0);
	cr_assert_eq(call(), 0);
	cr_assert_eq(getqid().type, P9_QTSYMLINK);
	ssize_t k = readlink(host("mine"), target, sizeof(target) - 1);
	cr_assert_eq(k, 19);
	/* and a hard link of a file stays inside */
	put_file("f", "data");
	cr_assert_eq(walk1(0, 3, "f"), 0);
	T(P9_TLINK);
	p9_put32(&m, 0), p9_put32(&m, 3), pstr("f2");
	cr_assert_eq(call(), 0);
	cr_assert_str_eq(get_file("f2"), "data");
}

Test(p9, nothing_leaves_the_share)
{
	struct p9_qid root = attach(0);
	const char *up[] = { "..", "..", ".." };

	cr_assert_eq(walk(0, 1, 3, up), 0);
	cr_assert_eq(p9_get16(&r), 3);
	getqid(), getqid();
	cr_assert_eq(getqid().path, root.path, "\"..\" stops at the share's root");
	cr_assert_eq(walk1(0, 2, "a/b"), EINVAL, "a name may not hold '/'");
	cr_assert_eq(walk1(0, 2, ""), EINVAL);
	cr_assert_eq(mkdir9(0, "..", 0755), EINVAL);
	cr_assert_eq(mkdir9(0, "x/y", 0755), EINVAL);
	cr_assert_eq(lcreate(1, "..", O_RDWR, 0644), EINVAL);
	T(P9_TRENAMEAT);
	p9_put32(&m, 0), pstr(".."), p9_put32(&m, 0), pstr("moved");
	cr_assert_eq(call(), EINVAL, "the share's parent cannot be renamed");
	T(P9_TMKNOD);
	p9_put32(&m, 0), pstr("null"), p9_put32(&m, S_IFCHR | 0666), p9_put32(&m, 1),
		p9_put32(&m, 3), p9_put32(&m, 0);
	cr_assert_eq(call(), EPERM, "no device nodes on the host");
	T(P9_TMKNOD);
	p9_put32(&m, 0), pstr("fifo"), p9_put32(&m, S_IFIFO | 0600), p9_put32(&m, 0),
		p9_put32(&m, 0), p9_put32(&m, 0);
	cr_assert_eq(call(), 0, "a fifo is fine");
}

Test(p9, malformed_and_out_of_range)
{
	struct ign_err err = { 0 };
	uint8_t shortmsg[] = { 5, 0, 0, 0, P9_TVERSION };

	cr_assert_lt(p9_serve(srv, shortmsg, sizeof(shortmsg), rep, sizeof(rep), &err), 0);
	uint8_t lies[] = { 200, 0, 0, 0, P9_TCLUNK, 1, 0, 0, 0, 0, 0 };
	cr_assert_lt(p9_serve(srv, lies, sizeof(lies), rep, sizeof(rep), &err), 0,
		     "a size over the buffer is refused");
	attach(0);
	T(P9_TWALK);
	p9_put32(&m, 0), p9_put32(&m, 1), p9_put16(&m, 2);
	pstr("only-one");
	cr_assert_eq(call(), EPROTO, "a truncated message is answered, not read past");
	T(P9_TWALK);
	p9_put32(&m, 0), p9_put32(&m, 1), p9_put16(&m, 17);
	cr_assert_eq(call(), EINVAL, "at most 16 names a walk");
	cr_assert_eq(walk1(0, P9_MAX_FIDS, "x"), EMFILE, "fid numbers are bounded");
	cr_assert_eq(walk1(0, 0, "."), 0);
	cr_assert_eq(walk(5, 6, 0, NULL), EBADF);
	cr_assert_eq(walk(0, 0, 0, NULL), 0);
	put_file("f", "x");
	cr_assert_eq(walk1(0, 1, "f"), 0);
	cr_assert_eq(walk1(0, 1, "f"), EBADF, "newfid in use");
	T(P9_RVERSION);
	cr_assert_eq(call(), EOPNOTSUPP, "an R-message from the guest");
	T(P9_TXATTRWALK);
	p9_put32(&m, 0), p9_put32(&m, 9), pstr("user.x");
	cr_assert_eq(call(), EOPNOTSUPP);
	T(P9_TREAD);
	p9_put32(&m, 1), p9_put64(&m, 0), p9_put32(&m, 10);
	cr_assert_eq(call(), EBADF, "read of a fid not opened");
	cr_assert_eq(lopen(1, O_RDWR), 0);
	T(P9_TWRITE);
	p9_put32(&m, 1), p9_put64(&m, 0), p9_put32(&m, 1000);
	p9_putmem(&m, "abc", 3);
	cr_assert_eq(call(), EPROTO, "a count over the data sent");

	/* a tiny reply buffer: the read is cut to fit */
	put_file("big", "0123456789abcdefghij");
	cr_assert_eq(walk1(0, 2, "big"), 0);
	cr_assert_eq(lopen(2, O_RDONLY), 0);
	char buf[64];
	rep_max = 16;
	cr_assert_eq(pread9(2, 0, 20, buf), 5);
	cr_assert_str_eq(buf, "01234");
	rep_max = 8;
	T(P9_TREAD);
	p9_put32(&m, 2), p9_put64(&m, 0), p9_put32(&m, 20);
	cr_assert_lt(p9_serve(srv, req, p9_end(&m), rep, rep_max, &err), 0,
		     "no room even for Rlerror");
	rep_max = sizeof(rep);

	cr_assert_eq(p9_server_fids(srv), 3);
	attach(0);
	cr_assert_eq(p9_server_fids(srv), 1, "Tversion starts a new session");
}

TestSuite(p9ro, .init = ro_share, .fini = stop);

Test(p9ro, every_change_is_refused)
{
	char buf[16];

	put_file("f", "read me");
	attach(0);
	cr_assert_eq(walk1(0, 1, "f"), 0);
	cr_assert_eq(lopen(1, O_WRONLY), EROFS);
	cr_assert_eq(lopen(1, O_RDONLY | 01000), EROFS, "O_TRUNC is a change");
	cr_assert_eq(lopen(1, O_RDONLY), 0);
	cr_assert_eq(pread9(1, 0, 10, buf), 7);
	cr_assert_eq(walk(0, 2, 0, NULL), 0);
	cr_assert_eq(lcreate(2, "new", O_RDWR, 0644), EROFS);
	cr_assert_eq(mkdir9(0, "d", 0755), EROFS);
	T(P9_TUNLINKAT);
	p9_put32(&m, 0), pstr("f"), p9_put32(&m, 0);
	cr_assert_eq(call(), EROFS);
	T(P9_TSETATTR);
	p9_put32(&m, 1), p9_put32(&m, P9_SETATTR_SIZE);
	for (int i = 0; i < 3; i++)
		p9_put32(&m, 0);
	for (int i = 0; i < 5; i++)
		p9_put64(&m, 0);
	cr_assert_eq(call(), EROFS);
	cr_assert_str_eq(get_file("f"), "read me");
}

/* The device: the tag in config space, and one request through a real virtqueue. */
#include "fake_driver.h"

Test(p9dev, tag_and_a_request_through_the_queue, .init = rw_share, .fini = stop)
{
	struct ign_err err = { 0 };
	uint8_t cfg[8];

	fake_ram_setup();
	cr_assert_eq(virtio_9p_create("bad tag", dir, 0, &mem, &dev, &err), -EINVAL);
	cr_assert_eq(virtio_9p_create("vol0", dir, 0, &mem, &dev, &err), 0, "%s", err.msg);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_9P);
	for (unsigned i = 0; i < sizeof(cfg); i++)
		virtio_mmio_access(dev, VIRTIO_MMIO_CONFIG + i, 0, &cfg[i], 1);
	cr_assert_eq(cfg[0] | cfg[1] << 8, 4);
	cr_assert_eq(memcmp(cfg + 2, "vol0", 4), 0);
	fake_driver_up(1ULL << VIRTIO_9P_F_MOUNT_TAG, 1);

	T(P9_TVERSION);
	p9_put32(&m, 8192);
	pstr("9P2000.L");
	size_t n = p9_end(&m);
	memcpy(ram + 0x10000, req, n);
	*desc(0, 0) = (struct virtq_desc){ 0x10000, n, VIRTQ_DESC_F_NEXT, 1 };
	*desc(0, 1) = (struct virtq_desc){ 0x20000, 4096, VIRTQ_DESC_F_WRITE, 0 };
	avail(0)->ring[0] = 0;
	avail(0)->idx = 1;
	virtio_dev_kick(dev, 0);
	cr_assert_eq(used(0)->idx, 1);
	cr_assert_eq(used(0)->ring[0].len, 4 + 1 + 2 + 4 + 2 + 8);
	cr_assert_eq(ram[0x20000 + 4], P9_RVERSION);
	cr_assert_eq(ram[0x20000 + 7] | ram[0x20000 + 8] << 8, 8192, "msize as asked");
	cr_assert_eq(memcmp(ram + 0x20000 + 13, "9P2000.L", 8), 0);
	dev->ops->destroy(dev);
	free(ram);
}

/* A warm base's share slot: no directory (attach fails), saved unmounted, refilled. */
Test(p9slot, empty_slot_saved_unmounted_and_filled, .init = rw_share, .fini = stop)
{
	struct ign_err err = { 0 };
	struct p9_server *empty;
	struct snap_buf b = { 0 };
	struct virtio_dev *slot, *filled, *other;

	cr_assert_eq(p9_server_create(NULL, 0, &empty, &err), 0, "%s", err.msg);
	struct p9_server *keep = srv;
	srv = empty;
	tattach(1);
	cr_assert_eq(call(), ENXIO, "an empty slot has nothing to attach");
	cr_assert_eq(p9_server_fids(empty), 0);
	p9_server_destroy(empty);
	srv = keep;

	fake_ram_setup();
	cr_assert_eq(virtio_9p_create("vol3", NULL, 0, &mem, &slot, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_dev_save(slot, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_9p_create("vol3", dir, 0, &mem, &filled, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_dev_restore(filled, b.p, b.len, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_9p_create("vol4", dir, 0, &mem, &other, &err), 0, "%s", err.msg);
	cr_assert_lt(virtio_dev_restore(other, b.p, b.len, &err), 0, "another tag");
	cr_assert(strstr(err.msg, "vol4"), "%s", err.msg);
	other->ops->destroy(other);
	snap_buf_free(&b);

	/* Mounted (a fid in use): the save is refused, naming the share. */
	dev = filled;
	fake_driver_up(1ULL << VIRTIO_9P_F_MOUNT_TAG, 1);
	tattach(1);
	size_t n = p9_end(&m);
	memcpy(ram + 0x10000, req, n);
	*desc(0, 0) = (struct virtq_desc){ 0x10000, n, VIRTQ_DESC_F_NEXT, 1 };
	*desc(0, 1) = (struct virtq_desc){ 0x20000, 4096, VIRTQ_DESC_F_WRITE, 0 };
	avail(0)->ring[0] = 0;
	avail(0)->idx = 1;
	virtio_dev_kick(dev, 0);
	cr_assert_eq(ram[0x20000 + 4], P9_RATTACH, "the filled slot serves the directory");
	cr_assert_eq(virtio_dev_save(filled, &b, &err), -ENOTSUP);
	cr_assert(strstr(err.msg, "vol3") && strstr(err.msg, "mounted"), "%s", err.msg);
	/* A reset's disconnect: the guest's mount is gone with every fid; it saves again. */
	filled->ops->disconnect(filled);
	b.len = 0;
	cr_assert_eq(virtio_dev_save(filled, &b, &err), 0, "%s", err.msg);
	snap_buf_free(&b);
	filled->ops->destroy(filled);
	slot->ops->destroy(slot);
	free(ram);
}
