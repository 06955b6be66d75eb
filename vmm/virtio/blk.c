// SPDX-License-Identifier: Apache-2.0
#include "blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/log.h"

#define SECTOR 512ULL

struct blk_config {
	uint64_t capacity;    /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
} __attribute__((packed));

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk {
	struct virtio_dev dev;
	int fd;
	int readonly;
	uint64_t bytes;
	struct blk_config config;
	char id[VIRTIO_BLK_ID_BYTES];
};

static void blk_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size)
{
	struct blk *b = d->priv;

	virtio_config_copy(&b->config, sizeof(b->config), off, data, size);
}

static int rw_all(struct blk *b, int write, struct iovec *iov, unsigned n, uint64_t off)
{
	while (n) {
		ssize_t r = write ? pwritev(b->fd, iov, n, off) : preadv(b->fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = EIO;  /* the file shrank under us */
		if (r <= 0)
			return -1;
		off += r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++, n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return 0;
}

/* Serves one request; returns the bytes written into the chain, or -1 if malformed. */
static int64_t blk_request(struct virtio_dev *d, struct virtq_chain *c, struct ign_err *err)
{
	struct blk *b = d->priv;
	struct blk_req_hdr h;
	struct iovec data[VIRTQ_MAX_SEGS];
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t written = 0;

	if (iov_to_buf(c->iov, c->n_out, 0, &h, sizeof(h)) != sizeof(h))
		return ign_err_setx(err, EPROTO, "request header is %llu bytes, want %zu",
				    (unsigned long long)c->out_len, sizeof(h));
	if (c->in_len < 1)
		return ign_err_setx(err, EPROTO, "request has no status byte");
	const struct iovec *in = c->iov + c->n_out;
	uint64_t in_data = c->in_len - 1;  /* the last writable byte is the status */

	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		int write = h.type == VIRTIO_BLK_T_OUT;
		uint64_t len = write ? c->out_len - sizeof(h) : in_data;
		unsigned n = write ? iov_slice(c->iov, c->n_out, sizeof(h), len, data, VIRTQ_MAX_SEGS)
				   : iov_slice(in, c->n_in, 0, len, data, VIRTQ_MAX_SEGS);
		if (len % SECTOR || h.sector > b->bytes / SECTOR ||
		    len > b->bytes - h.sector * SECTOR) {
			log_ratelimited(IGN_LOG_DEBUG, "virtio-blk: %s of %llu bytes at sector %llu "
					"beyond the disk or unaligned", write ? "write" : "read",
					(unsigned long long)len, (unsigned long long)h.sector);
			status = VIRTIO_BLK_S_IOERR;
		} else if (write && b->readonly) {
			status = VIRTIO_BLK_S_IOERR;
		} else if (len && rw_all(b, write, data, n, h.sector * SECTOR) < 0) {
			log_ratelimited(IGN_LOG_WARN, "virtio-blk: %s at sector %llu: %s",
					write ? "write" : "read", (unsigned long long)h.sector,
					strerror(errno));
			status = VIRTIO_BLK_S_IOERR;
		} else if (!write) {
			written = len;
		}
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (!b->readonly && fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = iov_from_buf(in, c->n_in, 0, b->id,
				       in_data < sizeof(b->id) ? in_data : sizeof(b->id));
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
	iov_from_buf(in, c->n_in, c->in_len - 1, &status, 1);
	return written + 1;
}

static void blk_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_serve(d, q, blk_request);
}

/*
 * The disk's size and mode: a restore onto another disk is refused, except
 * that an empty slot (saved with 0 bytes) may be filled: the guest is told
 * of its new capacity with a configuration change interrupt.
 */
struct blk_state {
	uint64_t bytes;
	uint32_t readonly, pad;
};

static int blk_save(struct virtio_dev *d, struct snap_buf *sb, struct ign_err *err)
{
	struct blk *b = d->priv;
	struct blk_state st = { .bytes = b->bytes, .readonly = b->readonly };

	(void)err;
	snap_buf_put(sb, &st, sizeof(st));
	return 0;
}

static int blk_restore(struct virtio_dev *d, const uint8_t *data, size_t len,
		       struct ign_err *err)
{
	struct blk *b = d->priv;
	struct blk_state st;

	if (len != sizeof(st))
		return ign_err_setx(err, EINVAL, "saved state of %zu bytes", len);
	memcpy(&st, data, sizeof(st));
	if (st.bytes == 0 && b->bytes && st.readonly == (uint32_t)b->readonly) {
		virtio_dev_config_changed(d);
		return 0;
	}
	if (st.bytes != b->bytes || st.readonly != (uint32_t)b->readonly)
		return ign_err_setx(err, EINVAL, "the snapshot's disk was %llu bytes%s, this one is "
				    "%llu bytes%s", (unsigned long long)st.bytes,
				    st.readonly ? " read-only" : "", (unsigned long long)b->bytes,
				    b->readonly ? " read-only" : "");
	return 0;
}

static void blk_destroy(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_max = 256,
	.config_read = blk_config_read,
	.notify = blk_notify,
	.destroy = blk_destroy,
	.save = blk_save,
	.restore = blk_restore,
};

static struct virtio_dev *blk_new(int fd, int readonly, uint64_t bytes, const char *id,
				  const struct guest_mem *mem)
{
	struct blk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->fd = fd;
	b->readonly = readonly;
	b->bytes = bytes;
	b->config.capacity = bytes / SECTOR;
	b->config.seg_max = VIRTQ_MAX_SEGS - 2;
	snprintf(b->id, sizeof(b->id), "%s", id);
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) |
			    (readonly ? 1ULL << VIRTIO_BLK_F_RO : 1ULL << VIRTIO_BLK_F_FLUSH);
	virtio_dev_init(&b->dev, &blk_ops, b, mem, features);
	return &b->dev;
}

int virtio_blk_create(const char *path, int readonly, const struct guest_mem *mem,
		      struct virtio_dev **out, struct ign_err *err)
{
	struct stat st;
	char id[VIRTIO_BLK_ID_BYTES];

	if (!path) {  /* an empty slot */
		if (!(*out = blk_new(-1, readonly, 0, "", mem)))
			return ign_err_set(err, ENOMEM, "empty disk slot");
		return 0;
	}
	cleanup_close int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return ign_err_set(err, errno, "disk `%s`", path);
	if (fstat(fd, &st) < 0)
		return ign_err_set(err, errno, "disk `%s`", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return ign_err_setx(err, EINVAL, "disk `%s` is not a regular file or block device",
				    path);
	uint64_t bytes = st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return ign_err_set(err, errno, "disk `%s`: size", path);
		bytes = end;
	}
	if (bytes % SECTOR)
		return ign_err_setx(err, EINVAL, "disk `%s` is %llu bytes, not a multiple of %llu",
				    path, (unsigned long long)bytes, SECTOR);

	/* The serial the guest sees (/sys/block/vdX/serial): device and inode. */
	snprintf(id, sizeof(id), "ign%llx.%llx", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	if (!(*out = blk_new(fd, readonly, bytes, id, mem)))
		return ign_err_set(err, ENOMEM, "disk `%s`", path);
	fd = -1;
	return 0;
}
