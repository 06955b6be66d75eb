// SPDX-License-Identifier: Apache-2.0
#include "9p.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "p9/p9.h"

struct virtio_9p {
	struct virtio_dev dev;
	struct p9_server *srv;
	uint8_t req[P9_MSIZE_MAX], rep[P9_MSIZE_MAX];
	uint8_t config[2 + VIRTIO_9P_TAG_MAX];  /* tag_len[2] tag[tag_len], no NUL */
	size_t config_len;
};

static void p9_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size)
{
	struct virtio_9p *v = d->priv;

	virtio_config_copy(v->config, v->config_len, off, data, size);
}

static int64_t p9_request(struct virtio_dev *d, struct virtq_chain *c, struct ign_err *err)
{
	struct virtio_9p *v = d->priv;

	if (c->out_len > P9_MSIZE_MAX)
		return ign_err_setx(err, EPROTO, "9P request of %llu bytes, over msize %u",
				    (unsigned long long)c->out_len, P9_MSIZE_MAX);
	size_t n = iov_to_buf(c->iov, c->n_out, 0, v->req, c->out_len);
	size_t room = c->in_len < P9_MSIZE_MAX ? c->in_len : P9_MSIZE_MAX;
	int64_t len = p9_serve(v->srv, v->req, n, v->rep, room, err);
	if (len < 0)
		return len;
	return iov_from_buf(c->iov + c->n_out, c->n_in, 0, v->rep, len);
}

static void p9_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_serve(d, q, p9_request);
}

static void p9_destroy(struct virtio_dev *d)
{
	struct virtio_9p *v = d->priv;

	p9_server_destroy(v->srv);
	free(v);
}

/*
 * Saved only while the guest has nothing of it in use (no fid: not mounted),
 * as in a warm base: the tag, which the guest read at probe time. The
 * restoring VM may give the slot another directory, or none.
 */
static int p9_save(struct virtio_dev *d, struct snap_buf *sb, struct ign_err *err)
{
	struct virtio_9p *v = d->priv;

	if (p9_server_fids(v->srv))
		return ign_err_setx(err, ENOTSUP, "share `%.*s` is mounted in the guest (%u fids "
				    "in use): only an unmounted share can be saved",
				    (int)v->config_len - 2, v->config + 2, p9_server_fids(v->srv));
	snap_buf_put(sb, v->config, v->config_len);
	return 0;
}

static int p9_restore(struct virtio_dev *d, const uint8_t *data, size_t len, struct ign_err *err)
{
	struct virtio_9p *v = d->priv;

	if (len != v->config_len || memcmp(data, v->config, len))
		return ign_err_setx(err, EINVAL, "the snapshot's share has another tag than `%.*s`",
				    (int)v->config_len - 2, v->config + 2);
	return 0;
}

/* A rollback to a snapshot, whose guest had nothing mounted: every fid goes. */
static void p9_disconnect(struct virtio_dev *d)
{
	struct virtio_9p *v = d->priv;

	p9_server_end_session(v->srv);
}

static const struct virtio_dev_ops p9_ops = {
	.name = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.nqueues = 1,
	.queue_max = 128,
	.config_read = p9_config_read,
	.notify = p9_notify,
	.destroy = p9_destroy,
	.disconnect = p9_disconnect,
	.save = p9_save,
	.restore = p9_restore,
};

int virtio_9p_create(const char *tag, const char *dir, int readonly,
		     const struct guest_mem *mem, struct virtio_dev **out, struct ign_err *err)
{
	size_t n = strlen(tag);
	struct virtio_9p *v;
	int r;

	if (!n || n > VIRTIO_9P_TAG_MAX ||
	    strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		return ign_err_setx(err, EINVAL, "share tag `%s`: 1 to %d letters, digits, `_.-`",
				    tag, VIRTIO_9P_TAG_MAX);
	if (!(v = calloc(1, sizeof(*v))))
		return ign_err_set(err, ENOMEM, "virtio-9p `%s`", tag);
	if ((r = p9_server_create(dir, readonly, &v->srv, err)) < 0) {
		free(v);
		return r;
	}
	v->config[0] = (uint8_t)n;
	v->config[1] = (uint8_t)(n >> 8);
	memcpy(v->config + 2, tag, n);
	v->config_len = 2 + n;
	virtio_dev_init(&v->dev, &p9_ops, v, mem, 1ULL << VIRTIO_9P_F_MOUNT_TAG);
	*out = &v->dev;
	return 0;
}
