// SPDX-License-Identifier: Apache-2.0
#include "snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void snap_buf_put(struct snap_buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < len)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

void snap_buf_free(struct snap_buf *b)
{
	free(b->p);
	*b = (struct snap_buf){ 0 };
}

void snap_begin(struct snap_buf *b)
{
	uint8_t hdr[SNAP_HDR_SIZE] = { 0 };

	b->len = 0;
	snap_buf_put(b, hdr, sizeof(hdr));
}

void snap_section(struct snap_buf *b, uint32_t tag, const void *data, size_t len)
{
	uint8_t h[8];

	if (len > SNAP_MAX_SECTION) {
		b->oom = 1;
		return;
	}
	put_le(h, tag, 4);
	put_le(h + 4, len, 4);
	snap_buf_put(b, h, sizeof(h));
	snap_buf_put(b, data, len);
	if (b->len >= SNAP_HDR_SIZE) {
		uint32_t n = (uint32_t)get_le(b->p + 16, 4) + 1;
		put_le(b->p + 16, n, 4);
	}
}

int snap_commit(struct snap_buf *b, const char *path, struct ign_err *err)
{
	char tmp[4096];
	uint8_t crc[4];

	if (b->oom || b->len < SNAP_HDR_SIZE)
		return ign_err_setx(err, ENOMEM, "snapshot state `%s`: out of memory or a section "
				    "over %u bytes", path, SNAP_MAX_SECTION);
	memcpy(b->p, SNAP_MAGIC, 8);
	put_le(b->p + 8, SNAP_VERSION, 4);
	put_le(b->p + 12, SNAP_ARCH_X86_64, 4);
	put_le(b->p + 24, b->len - SNAP_HDR_SIZE, 8);
	put_le(crc, crc32(0, b->p, b->len), 4);
	if (b->len + 4 > SNAP_MAX_BYTES)
		return ign_err_setx(err, EFBIG, "snapshot state `%s`: %zu bytes, over %u", path,
				    b->len + 4, SNAP_MAX_BYTES);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ign_err_setx(err, ENAMETOOLONG, "snapshot state `%s`", path);
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ign_err_set(err, errno, "snapshot state `%s`", tmp);
	int w = ign_write_all(fd, b->p, b->len);
	if (!w)
		w = ign_write_all(fd, crc, 4);
	if (!w && fsync(fd) < 0)
		w = -errno;
	if (w < 0) {
		int e = -w;
		unlink(tmp);
		return ign_err_set(err, e, "write snapshot state `%s`", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return ign_err_set(err, e, "snapshot state `%s`", path);
	}
	return 0;
}

int snap_check(const uint8_t *buf, size_t len, const char *path, unsigned *nsections,
	       struct ign_err *err)
{
	if (len < SNAP_HDR_SIZE + 4)
		return ign_err_setx(err, EINVAL, "snapshot state `%s` is %zu bytes: truncated",
				    path, len);
	if (memcmp(buf, SNAP_MAGIC, 8))
		return ign_err_setx(err, EINVAL, "`%s` is not an ign snapshot state file", path);
	uint32_t version = get_le(buf + 8, 4), arch = get_le(buf + 12, 4);
	uint32_t n = get_le(buf + 16, 4);
	uint64_t payload = get_le(buf + 24, 8);
	if (version != SNAP_VERSION)
		return ign_err_setx(err, EINVAL, "snapshot state `%s` has format version %u; this "
				    "VMM reads version %u: make the snapshot again", path, version,
				    SNAP_VERSION);
	if (arch != SNAP_ARCH_X86_64)
		return ign_err_setx(err, EINVAL, "snapshot state `%s` is for architecture %u, not "
				    "x86_64", path, arch);
	if (payload != len - SNAP_HDR_SIZE - 4)
		return ign_err_setx(err, EINVAL, "snapshot state `%s` is %zu bytes but says %llu: "
				    "truncated or padded", path, len,
				    (unsigned long long)payload + SNAP_HDR_SIZE + 4);
	if (crc32(0, buf, len - 4) != get_le(buf + len - 4, 4))
		return ign_err_setx(err, EINVAL, "snapshot state `%s`: CRC mismatch (corrupted)",
				    path);
	if (n > SNAP_MAX_SECTIONS)
		return ign_err_setx(err, EINVAL, "snapshot state `%s`: %u sections", path, n);
	/* every section lies inside the payload */
	size_t off = SNAP_HDR_SIZE, end = len - 4;
	for (unsigned i = 0; i < n; i++) {
		if (end - off < 8)
			return ign_err_setx(err, EINVAL, "snapshot state `%s`: section %u truncated",
					    path, i);
		uint32_t slen = get_le(buf + off + 4, 4);
		if (slen > SNAP_MAX_SECTION || slen > end - off - 8)
			return ign_err_setx(err, EINVAL, "snapshot state `%s`: section %u of %u "
					    "bytes runs past the end", path, i, slen);
		off += 8 + slen;
	}
	if (off != end)
		return ign_err_setx(err, EINVAL, "snapshot state `%s`: %zu bytes after the last "
				    "section", path, end - off);
	*nsections = n;
	return 0;
}

int snap_open(const char *path, struct snap_reader *r, struct ign_err *err)
{
	char *buf;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = ign_read_file(path, SNAP_MAX_BYTES, &buf, &len, err)) < 0)
		return ign_err_wrap(err, "snapshot state");
	if ((rc = snap_check((uint8_t *)buf, len, path, &r->left, err)) < 0) {
		free(buf);
		return rc;
	}
	r->buf = (uint8_t *)buf;
	r->crc = get_le(r->buf + len - 4, 4);
	r->len = len - 4;
	r->off = SNAP_HDR_SIZE;
	r->path = path;
	return 0;
}

static const char *tag_name(uint32_t tag)
{
	static const char *const names[] = { "?", "meta", "vm", "vcpu", "serial", "virtio", "pages" };

	return tag < sizeof(names) / sizeof(names[0]) ? names[tag] : "?";
}

int snap_next(struct snap_reader *r, uint32_t tag, const uint8_t **data, size_t *len,
	      struct ign_err *err)
{
	if (!r->left)
		return ign_err_setx(err, EINVAL, "snapshot state `%s`: no %s section where one is "
				    "expected", r->path, tag_name(tag));
	uint32_t t = get_le(r->buf + r->off, 4), n = get_le(r->buf + r->off + 4, 4);
	if (t != tag)
		return ign_err_setx(err, EINVAL, "snapshot state `%s`: a %s section where a %s "
				    "section is expected", r->path, tag_name(t), tag_name(tag));
	*data = r->buf + r->off + 8;
	*len = n;
	r->off += 8 + n;
	r->left--;
	return 0;
}

uint32_t snap_peek(const struct snap_reader *r)
{
	return r->left ? get_le(r->buf + r->off, 4) : 0;
}

void snap_close(struct snap_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}
