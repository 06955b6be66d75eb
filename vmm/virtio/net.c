// SPDX-License-Identifier: Apache-2.0
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/log.h"

#define Q_RX 0
#define Q_TX 1

struct net {
	struct virtio_dev dev;
	struct {
		uint8_t mac[6];
	} __attribute__((packed)) config;
	char tap[IFNAMSIZ];
	int fd;
	int readable;  /* the tap had frames when we last ran out of receive buffers */
	uint64_t tx_dropped, rx_dropped;
};

static void net_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size)
{
	struct net *n = d->priv;

	virtio_config_copy(&n->config, sizeof(n->config), off, data, size);
}

/* A frame from the guest: everything after its header goes to the tap. */
static int64_t net_tx(struct virtio_dev *d, struct virtq_chain *c, struct ign_err *err)
{
	struct net *n = d->priv;
	struct iovec frame[VIRTQ_MAX_SEGS];

	if (c->out_len < VIRTIO_NET_HDR_LEN || c->out_len > VIRTIO_NET_MAX_FRAME)
		return ign_err_setx(err, EPROTO, "transmit chain of %llu bytes (want %d to %d)",
				    (unsigned long long)c->out_len, VIRTIO_NET_HDR_LEN,
				    VIRTIO_NET_MAX_FRAME);
	unsigned k = iov_slice(c->iov, c->n_out, VIRTIO_NET_HDR_LEN,
			       c->out_len - VIRTIO_NET_HDR_LEN, frame, VIRTQ_MAX_SEGS);
	ssize_t w = -1;
	errno = ENOTCONN;
	while (n->fd >= 0 && (w = writev(n->fd, frame, k)) < 0 && errno == EINTR)
		;
	if (w < 0) {  /* a full tap queue or a down link: the frame is lost, as on a wire */
		n->tx_dropped++;
		log_ratelimited(IGN_LOG_DEBUG, "virtio-net: %s: transmit: %s", n->tap,
				strerror(errno));
	}
	return 0;
}

static void net_rx(struct net *n)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->vq[Q_RX];
	struct virtq_chain c;
	struct ign_err err = { 0 };
	int r = 0, pushed = 0;

	if (!d->active)
		return;
	while (n->readable && (r = virtq_pop(q, d->mem, &c, &err)) > 0) {
		if (c.n_out || c.in_len < VIRTIO_NET_HDR_LEN) {
			ign_err_setx(&err, EPROTO, "receive buffer of %llu bytes",
				     (unsigned long long)c.in_len);
			r = -1;
			break;
		}
		struct iovec *in = c.iov + c.n_out;
		struct iovec frame[VIRTQ_MAX_SEGS];
		unsigned k = iov_slice(in, c.n_in, VIRTIO_NET_HDR_LEN, c.in_len - VIRTIO_NET_HDR_LEN,
				       frame, VIRTQ_MAX_SEGS);
		ssize_t got;
		while ((got = readv(n->fd, frame, k)) < 0 && errno == EINTR)
			;
		if (got < 0) {
			virtq_unpop(q);
			if (errno == EAGAIN)
				n->readable = 0;
			else
				log_ratelimited(IGN_LOG_WARN, "virtio-net: %s: receive: %s", n->tap,
						strerror(errno));
			break;
		}
		/* No offloads, one buffer per frame: only num_buffers is not zero. */
		uint8_t hdr[VIRTIO_NET_HDR_LEN] = { [10] = 1 };
		iov_from_buf(in, c.n_in, 0, hdr, sizeof(hdr));
		virtq_push(q, c.head, VIRTIO_NET_HDR_LEN + got);
		pushed = 1;
	}
	if (pushed)
		virtio_queue_signal(d, Q_RX);
	if (r < 0)
		virtio_dev_fail(d, "receive queue", &err);
}

static void net_notify(struct virtio_dev *d, unsigned q)
{
	if (q == Q_TX)
		virtio_queue_serve(d, Q_TX, net_tx);
	else
		net_rx(d->priv);  /* new receive buffers */
}

void virtio_net_poll(struct virtio_dev *d)
{
	struct net *n = d->priv;

	pthread_mutex_lock(&d->lock);
	n->readable = 1;
	net_rx(n);
	pthread_mutex_unlock(&d->lock);
}

static void net_event(void *opaque, uint32_t events)
{
	(void)events;
	virtio_net_poll(opaque);
}

static void net_destroy(struct virtio_dev *d)
{
	struct net *n = d->priv;

	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.queue_max = 256,
	.config_read = net_config_read,
	.notify = net_notify,
	.destroy = net_destroy,
	/* frames in flight are dropped, as on a wire; the rings say the rest */
	.save = virtio_save_nothing,
	.restore = virtio_restore_nothing,
};

static int tap_open(const char *name, struct ign_err *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return ign_err_set(err, errno, "tap `%s`: /dev/net/tun", name);
	if (strlen(name) >= IFNAMSIZ)
		return ign_err_setx(err, EINVAL, "tap `%s`: names are at most %d characters", name,
				    IFNAMSIZ - 1);
	strcpy(ifr.ifr_name, name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return ign_err_set(err, errno, "tap `%s`%s", name, errno == EPERM ?
				   " (create it first: ip tuntap add NAME mode tap user UID)" : "");
	return steal_fd(&fd);
}

int virtio_net_create_fd(int fd, const char *name, const uint8_t mac[6],
			 const struct guest_mem *mem, struct evloop *loop, struct virtio_dev **out,
			 struct ign_err *err)
{
	struct net *n = calloc(1, sizeof(*n));
	int r;

	if (!n) {
		close(fd);
		return ign_err_set(err, ENOMEM, "virtio-net");
	}
	n->fd = fd;
	snprintf(n->tap, sizeof(n->tap), "%s", name);
	memcpy(n->config.mac, mac, 6);
	virtio_dev_init(&n->dev, &net_ops, n, mem, 1ULL << VIRTIO_NET_F_MAC);
	if (loop && (r = evloop_add(loop, fd, EPOLLIN | EPOLLET, net_event, &n->dev, err)) < 0) {
		net_destroy(&n->dev);
		return ign_err_wrap(err, "virtio-net `%s`", name);
	}
	*out = &n->dev;
	return 0;
}

int virtio_net_create(const char *tap, const uint8_t mac[6], const struct guest_mem *mem,
		      struct evloop *loop, struct virtio_dev **out, struct ign_err *err)
{
	if (!tap)  /* an empty slot: no link */
		return virtio_net_create_fd(-1, "(none)", mac, mem, NULL, out, err);
	int fd = tap_open(tap, err);

	return fd < 0 ? fd : virtio_net_create_fd(fd, tap, mac, mem, loop, out, err);
}
