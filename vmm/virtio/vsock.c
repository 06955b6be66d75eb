// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock. A connection's life:
 *   host connects to PATH   -> C_LINE (waiting for "CONNECT <port>\n")
 *   line read               -> C_CONNECTING, REQUEST owed to the guest
 *   guest RESPONSE          -> C_OPEN, "OK <host port>\n" to the host
 *   guest REQUEST to port P -> connect to PATH_P -> C_OPEN, RESPONSE owed
 * and it ends with a RST to the guest once both directions are done (or one
 * side broke), or when the guest resets it. Packets owed to the guest wait
 * in `pending` until the guest posts a receive buffer.
 *
 * Socket readiness is edge-triggered: an event only sets c->readable or
 * c->writable, and the work pass uses them up (until EAGAIN). Connections
 * are closed during a pass but freed only at its end, so no event of the
 * same batch points at freed memory.
 */
#include "vsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/log.h"

#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2
#define HDR sizeof(struct vsock_hdr)
#define RX_MAX_PAYLOAD (64u << 10)
#define CONNECT_LINE_MAX 32
#define PENDING_RST_MAX 32
#define EPHEMERAL_FIRST (1u << 30)
#define CREDIT_UPDATE_AT (VSOCK_CONN_BUF / 4)

enum conn_state { C_LINE, C_CONNECTING, C_OPEN, C_DEAD };
enum { P_REQUEST = 1, P_RESPONSE = 2, P_SHUTDOWN = 4, P_CREDIT = 8, P_RST = 16 };

struct conn {
	struct conn *next;
	int fd;
	enum conn_state state;
	uint32_t guest_port, host_port;
	unsigned pending;        /* P_*: control packets owed to the guest */
	int readable, writable;  /* edge-triggered readiness not yet used up */
	int hup;                 /* the host closed its end entirely */
	int host_eof;            /* the host sends no more (SHUTDOWN owed or sent) */
	uint32_t guest_shut;     /* VSOCK_SHUTDOWN_* the guest announced */
	uint32_t peer_buf_alloc, peer_fwd_cnt, rx_cnt;  /* host-to-guest credit */
	uint32_t fwd_cnt, fwd_cnt_sent;                 /* guest-to-host credit */
	uint8_t *buf;            /* guest-to-host bytes the host has not taken yet */
	uint32_t buf_head, buf_len;
};

struct vsock {
	struct virtio_dev dev;
	struct {
		uint64_t guest_cid;
	} __attribute__((packed)) config;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd, epfd;
	struct conn *conns;
	unsigned nconns;
	uint32_t next_port;
	struct { uint32_t guest_port, host_port; } rst[PENDING_RST_MAX];
	unsigned nrst;
};

/* ---- connections ---- */

static struct conn *conn_new(struct vsock *v, int fd, enum conn_state state)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->state = state;
	c->readable = c->writable = 1;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				  .data.ptr = c };
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn_errno(errno, "virtio-vsock: watch connection");
		free(c);
		return NULL;
	}
	c->next = v->conns;
	v->conns = c;
	v->nconns++;
	return c;
}

/* Ends a connection now; it is freed once the RST (if owed) has gone out. */
static void conn_close(struct conn *c, int send_rst)
{
	if (c->state == C_DEAD)
		return;
	close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
	c->state = C_DEAD;
	c->pending = send_rst ? P_RST : 0;
}

static struct conn *conn_find(struct vsock *v, uint32_t guest_port, uint32_t host_port)
{
	for (struct conn *c = v->conns; c; c = c->next)
		if (c->state != C_DEAD && c->state != C_LINE && c->guest_port == guest_port &&
		    c->host_port == host_port)
			return c;
	return NULL;
}

static void queue_rst(struct vsock *v, uint32_t guest_port, uint32_t host_port)
{
	if (v->nrst == PENDING_RST_MAX) {
		log_ratelimited(IGN_LOG_DEBUG, "virtio-vsock: reset queue full, dropping one");
		return;
	}
	v->rst[v->nrst].guest_port = guest_port;
	v->rst[v->nrst].host_port = host_port;
	v->nrst++;
}

static uint32_t credit_for_guest(const struct conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static ssize_t send_iov(int fd, const struct iovec *iov, unsigned n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };

	return sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The host took some bytes: tell the guest once enough credit came back. */
static void conn_forwarded(struct conn *c, size_t n)
{
	c->fwd_cnt += n;
	if (c->fwd_cnt - c->fwd_cnt_sent >= CREDIT_UPDATE_AT)
		c->pending |= P_CREDIT;
}

/* Both directions finished (or the host side broke): reset the guest's end. */
static void conn_check_done(struct conn *c)
{
	if (c->state != C_OPEN)
		return;
	int to_host_done = (c->guest_shut & VSOCK_SHUTDOWN_SEND) && !c->buf_len;
	int to_guest_done = (c->host_eof && !(c->pending & P_SHUTDOWN)) ||
			    (c->guest_shut & VSOCK_SHUTDOWN_RCV);
	if (to_host_done && to_guest_done)
		conn_close(c, 1);
}

static void conn_flush(struct conn *c)
{
	while (c->buf_len && c->writable) {
		uint32_t first = VSOCK_CONN_BUF - c->buf_head;
		if (first > c->buf_len)
			first = c->buf_len;
		struct iovec iov[2] = { { c->buf + c->buf_head, first },
					{ c->buf, c->buf_len - first } };
		ssize_t w = send_iov(c->fd, iov, iov[1].iov_len ? 2 : 1);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			c->writable = 0;
			break;
		}
		if (w <= 0) {
			conn_close(c, 1);
			return;
		}
		c->buf_head = (c->buf_head + w) % VSOCK_CONN_BUF;
		c->buf_len -= w;
		conn_forwarded(c, w);
	}
	if (!c->buf_len && (c->guest_shut & VSOCK_SHUTDOWN_SEND))
		shutdown(c->fd, SHUT_WR);
}

/* Guest-to-host data: straight to the socket, the rest into the buffer. */
static void conn_deliver(struct conn *c, const struct iovec *iov, unsigned n, uint32_t len)
{
	size_t done = 0;

	if (c->guest_shut & VSOCK_SHUTDOWN_SEND) {
		conn_close(c, 1);  /* data after its own shutdown */
		return;
	}
	if (len > VSOCK_CONN_BUF - c->buf_len) {
		log_ratelimited(IGN_LOG_DEBUG, "virtio-vsock: guest port %u sent %u bytes over "
				"its credit; resetting", c->guest_port, len);
		conn_close(c, 1);
		return;
	}
	if (!c->buf_len && c->writable && len) {
		ssize_t w;
		while ((w = send_iov(c->fd, iov, n)) < 0 && errno == EINTR)
			;
		if (w < 0 && errno == EAGAIN) {
			c->writable = 0;
		} else if (w < 0) {
			conn_close(c, 1);
			return;
		} else {
			done = w;
			conn_forwarded(c, w);
		}
	}
	if (done < len && !c->buf && !(c->buf = malloc(VSOCK_CONN_BUF))) {
		conn_close(c, 1);
		return;
	}
	while (done < len) {
		uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_CONN_BUF;
		uint32_t room = tail >= c->buf_head ? VSOCK_CONN_BUF - tail : c->buf_head - tail;
		size_t k = iov_to_buf(iov, n, done, c->buf + tail,
				      room < len - done ? room : len - done);
		c->buf_len += k;
		done += k;
	}
}

/* ---- packets to the guest (receive queue) ---- */

static void hdr_for(const struct vsock *v, const struct conn *c, struct vsock_hdr *h,
		    uint16_t op)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = v->config.guest_cid,
		.src_port = c->host_port, .dst_port = c->guest_port,
		.type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_CONN_BUF, .fwd_cnt = c->fwd_cnt,
	};
}

/* Reads host data into the chain after the header; returns the packet's op or 0. */
static uint16_t conn_read(struct conn *c, const struct iovec *in, unsigned n_in,
			  uint64_t room, uint32_t *len)
{
	struct iovec data[VIRTQ_MAX_SEGS];
	uint32_t want = credit_for_guest(c);

	if (want > room)
		want = room;
	if (want > RX_MAX_PAYLOAD)
		want = RX_MAX_PAYLOAD;
	if (!want)
		return 0;
	unsigned k = iov_slice(in, n_in, HDR, want, data, VIRTQ_MAX_SEGS);
	ssize_t r;
	while ((r = readv(c->fd, data, k)) < 0 && errno == EINTR)
		;
	if (r > 0) {
		*len = r;
		c->rx_cnt += r;
		return VSOCK_OP_RW;
	}
	if (r < 0 && errno == EAGAIN) {
		c->readable = 0;
		return 0;
	}
	if (r == 0 && !c->hup) {  /* the host shut its sending side */
		c->host_eof = 1;
		c->pending |= P_SHUTDOWN;
		return 0;
	}
	conn_close(c, 1);  /* closed entirely, or broken */
	return 0;
}

/* Fills one receive chain from connection c; returns the bytes written, 0: nothing. */
static uint32_t conn_packet(struct vsock *v, struct conn *c, struct virtq_chain *ch)
{
	const struct iovec *in = ch->iov + ch->n_out;
	struct vsock_hdr h;
	uint32_t len = 0;
	uint16_t op = 0;

	if (c->state == C_OPEN && c->readable && !c->host_eof &&
	    !(c->guest_shut & VSOCK_SHUTDOWN_RCV) && !(c->pending & (P_RESPONSE | P_RST)))
		op = conn_read(c, in, ch->n_in, ch->in_len - HDR, &len);
	if (!op) {
		static const struct { unsigned bit; uint16_t op; } order[] = {
			{ P_RST, VSOCK_OP_RST }, { P_REQUEST, VSOCK_OP_REQUEST },
			{ P_RESPONSE, VSOCK_OP_RESPONSE }, { P_SHUTDOWN, VSOCK_OP_SHUTDOWN },
			{ P_CREDIT, VSOCK_OP_CREDIT_UPDATE },
		};
		for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]) && !op; i++)
			if (c->pending & order[i].bit) {
				op = order[i].op;
				c->pending &= ~order[i].bit;
			}
		if (!op)
			return 0;
	}
	hdr_for(v, c, &h, op);
	h.len = len;
	if (op == VSOCK_OP_SHUTDOWN)
		h.flags = VSOCK_SHUTDOWN_SEND;
	c->fwd_cnt_sent = c->fwd_cnt;  /* every packet carries our credit */
	c->pending &= ~P_CREDIT;
	if (op == VSOCK_OP_RST)
		c->pending = 0;
	iov_from_buf(in, ch->n_in, 0, &h, HDR);
	conn_check_done(c);
	return HDR + len;
}

static uint32_t next_packet(struct vsock *v, struct virtq_chain *ch)
{
	if (v->nrst) {
		struct conn tmp = { .guest_port = v->rst[0].guest_port,
				    .host_port = v->rst[0].host_port };
		struct vsock_hdr h;
		hdr_for(v, &tmp, &h, VSOCK_OP_RST);
		h.buf_alloc = h.fwd_cnt = 0;
		memmove(v->rst, v->rst + 1, --v->nrst * sizeof(v->rst[0]));
		iov_from_buf(ch->iov + ch->n_out, ch->n_in, 0, &h, HDR);
		return HDR;
	}
	/* Round robin: whoever sent goes to the back of the list. */
	struct conn **pp = &v->conns;
	for (; *pp; pp = &(*pp)->next) {
		struct conn *c = *pp;
		uint32_t n = conn_packet(v, c, ch);
		if (!n)
			continue;
		if (c->next) {
			*pp = c->next;
			struct conn **tail = pp;
			while (*tail)
				tail = &(*tail)->next;
			*tail = c;
			c->next = NULL;
		}
		return n;
	}
	return 0;
}

static void vsock_pump(struct vsock *v)
{
	struct virtio_dev *d = &v->dev;
	struct virtq *q = &d->vq[Q_RX];
	struct virtq_chain ch;
	struct ign_err err = { 0 };
	int r, pushed = 0;

	if (!d->active)
		return;
	while ((r = virtq_pop(q, d->mem, &ch, &err)) > 0) {
		if (ch.n_out || ch.in_len < HDR) {
			ign_err_setx(&err, EPROTO, "receive buffer of %llu bytes (%u readable "
				     "segments); want %zu writable", (unsigned long long)ch.in_len,
				     ch.n_out, HDR);
			r = -1;
			break;
		}
		uint32_t n = next_packet(v, &ch);
		if (!n) {
			virtq_unpop(q);
			break;
		}
		virtq_push(q, ch.head, n);
		pushed = 1;
	}
	if (pushed)
		virtio_queue_signal(d, Q_RX);
	if (r < 0)
		virtio_dev_fail(d, "receive queue", &err);
}

/* ---- packets from the guest (transmit queue) ---- */

static void guest_connect(struct vsock *v, const struct vsock_hdr *h)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v->path, h->dst_port);

	if (n < 0 || (size_t)n >= sizeof(a.sun_path) || v->nconns >= VSOCK_MAX_CONNS) {
		queue_rst(v, h->src_port, h->dst_port);
		return;
	}
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		log_debug("virtio-vsock: guest port %u to host port %u: %s: %s", h->src_port,
			  h->dst_port, a.sun_path, strerror(errno));
		queue_rst(v, h->src_port, h->dst_port);
		return;
	}
	struct conn *c = conn_new(v, fd, C_OPEN);
	if (!c) {
		queue_rst(v, h->src_port, h->dst_port);
		return;
	}
	steal_fd(&fd);
	c->guest_port = h->src_port;
	c->host_port = h->dst_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = P_RESPONSE;
}

static void guest_response(struct conn *c)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);

	if (c->state != C_CONNECTING || send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		conn_close(c, 1);
		return;
	}
	c->state = C_OPEN;
}

static int64_t tx_packet(struct virtio_dev *d, struct virtq_chain *ch, struct ign_err *err)
{
	struct vsock *v = d->priv;
	struct vsock_hdr h;

	if (iov_to_buf(ch->iov, ch->n_out, 0, &h, HDR) != HDR)
		return ign_err_setx(err, EPROTO, "packet of %llu bytes has no %zu-byte header",
				    (unsigned long long)ch->out_len, HDR);
	if (h.len > ch->out_len - HDR)
		return ign_err_setx(err, EPROTO, "packet says %u bytes of payload, carries %llu",
				    h.len, (unsigned long long)(ch->out_len - HDR));
	if (h.src_cid != v->config.guest_cid || h.dst_cid != VSOCK_HOST_CID ||
	    h.type != VSOCK_TYPE_STREAM) {
		log_ratelimited(IGN_LOG_DEBUG, "virtio-vsock: dropped packet %llu:%u -> %llu:%u "
				"type %u", (unsigned long long)h.src_cid, h.src_port,
				(unsigned long long)h.dst_cid, h.dst_port, h.type);
		if (h.op != VSOCK_OP_RST && h.src_cid == v->config.guest_cid)
			queue_rst(v, h.src_port, h.dst_port);
		return 0;
	}
	struct conn *c = conn_find(v, h.src_port, h.dst_port);
	if (c) {
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
	}
	switch (h.op) {
	case VSOCK_OP_REQUEST:
		if (c)
			conn_close(c, 1);
		else
			guest_connect(v, &h);
		return 0;
	case VSOCK_OP_RST:
		if (c)
			conn_close(c, 0);
		return 0;
	}
	if (!c) {
		queue_rst(v, h.src_port, h.dst_port);
		return 0;
	}
	switch (h.op) {
	case VSOCK_OP_RESPONSE:
		guest_response(c);
		break;
	case VSOCK_OP_SHUTDOWN:
		c->guest_shut |= h.flags & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
		if ((c->guest_shut & VSOCK_SHUTDOWN_SEND) && !c->buf_len)
			shutdown(c->fd, SHUT_WR);
		conn_check_done(c);
		break;
	case VSOCK_OP_RW: {
		struct iovec data[VIRTQ_MAX_SEGS];
		unsigned n = iov_slice(ch->iov, ch->n_out, HDR, h.len, data, VIRTQ_MAX_SEGS);
		if (c->state != C_OPEN)
			conn_close(c, 1);
		else
			conn_deliver(c, data, n, h.len);
		break;
	}
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= P_CREDIT;
		break;
	default:
		conn_close(c, 1);
	}
	return 0;
}

/* ---- the host side ---- */

static void accept_all(struct vsock *v)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_ratelimited(IGN_LOG_WARN, "virtio-vsock: accept on %s: %s",
						v->path, strerror(errno));
			return;
		}
		if (v->nconns >= VSOCK_MAX_CONNS || !conn_new(v, fd, C_LINE)) {
			log_ratelimited(IGN_LOG_WARN, "virtio-vsock: %s: over %u connections, "
					"refusing one", v->path, VSOCK_MAX_CONNS);
			close(fd);
		}
	}
}

/* "CONNECT <port>\n" from a new host connection; nothing past the newline is read. */
static void conn_read_line(struct vsock *v, struct conn *c)
{
	char line[CONNECT_LINE_MAX + 1];
	ssize_t n = recv(c->fd, line, CONNECT_LINE_MAX, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = 0;
		return;
	}
	if (n <= 0) {
		conn_close(c, 0);
		return;
	}
	line[n] = 0;
	char *nl = memchr(line, '\n', n);
	if (!nl) {
		if (n == CONNECT_LINE_MAX)
			conn_close(c, 0);
		else
			c->readable = 0;  /* the rest of the line is still to come */
		return;
	}
	*nl = 0;
	unsigned port;
	int used = -1;
	if (sscanf(line, "CONNECT %u%n", &port, &used) != 1 || used != nl - line ||
	    recv(c->fd, line, nl - line + 1, MSG_DONTWAIT) != nl - line + 1) {
		log_ratelimited(IGN_LOG_DEBUG, "virtio-vsock: %s: bad connect line", v->path);
		conn_close(c, 0);
		return;
	}
	do {
		c->host_port = v->next_port++;
		if (v->next_port < EPHEMERAL_FIRST)
			v->next_port = EPHEMERAL_FIRST;
	} while (conn_find(v, port, c->host_port));
	c->guest_port = port;
	c->state = C_CONNECTING;
	c->pending = P_REQUEST;
}

static void vsock_work(struct vsock *v)
{
	for (struct conn *c = v->conns; c; c = c->next) {
		if (c->state == C_LINE && c->readable)
			conn_read_line(v, c);
		if (c->state == C_OPEN && c->buf_len && c->writable)
			conn_flush(c);
		conn_check_done(c);
	}
	vsock_pump(v);
	for (struct conn **pp = &v->conns; *pp;) {
		struct conn *c = *pp;
		if (c->state == C_DEAD && !c->pending) {
			*pp = c->next;
			v->nconns--;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

void virtio_vsock_poll(struct virtio_dev *d)
{
	struct vsock *v = d->priv;
	struct epoll_event ev[64];
	int n;

	pthread_mutex_lock(&d->lock);
	do {
		n = epoll_wait(v->epfd, ev, 64, 0);
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (!c) {
				accept_all(v);
				continue;
			}
			if (c->state == C_DEAD)
				continue;
			if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				c->readable = 1;
			if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				c->writable = 1;
			if (ev[i].events & (EPOLLHUP | EPOLLERR))
				c->hup = 1;
		}
	} while (n == 64);
	vsock_work(v);
	pthread_mutex_unlock(&d->lock);
}

static void vsock_event(void *opaque, uint32_t events)
{
	(void)events;
	virtio_vsock_poll(opaque);
}

/* ---- virtio device ---- */

static void vsock_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size)
{
	struct vsock *v = d->priv;

	virtio_config_copy(&v->config, sizeof(v->config), off, data, size);
}

static void vsock_notify(struct virtio_dev *d, unsigned q)
{
	struct vsock *v = d->priv;

	if (q == Q_TX)
		virtio_queue_serve(d, Q_TX, tx_packet);
	/* Q_RX: new receive buffers; Q_EVENT: buffers for events we never send yet. */
	if (q != Q_EVENT)
		vsock_work(v);
}

static void vsock_drop_all(struct vsock *v)
{
	while (v->conns) {
		struct conn *c = v->conns;
		v->conns = c->next;
		if (c->fd >= 0)
			close(c->fd);
		free(c->buf);
		free(c);
	}
	v->nconns = 0;
	v->nrst = 0;
}

static void vsock_reset(struct virtio_dev *d)
{
	vsock_drop_all(d->priv);
}

static void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *v = d->priv;

	vsock_drop_all(v);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	if (v->epfd >= 0)
		close(v->epfd);
	free(v);
}

/*
 * A snapshot is taken with no connection open (the warm base: the guest's
 * agent listening, nobody connected); connections are host sockets and
 * cannot be carried over. The guest's CID stays the device's.
 */
static int vsock_save(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err)
{
	struct vsock *v = d->priv;

	if (v->nconns || v->nrst)
		return ign_err_setx(err, EBUSY, "%u connection%s open: a snapshot needs none",
				    v->nconns, v->nconns == 1 ? "" : "s");
	snap_buf_put(b, &v->next_port, sizeof(v->next_port));
	return 0;
}

static int vsock_restore(struct virtio_dev *d, const uint8_t *data, size_t len,
			 struct ign_err *err)
{
	struct vsock *v = d->priv;

	if (len != sizeof(v->next_port))
		return ign_err_setx(err, EINVAL, "saved state of %zu bytes", len);
	memcpy(&v->next_port, data, sizeof(v->next_port));
	return 0;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.queue_max = 256,
	.config_read = vsock_config_read,
	.notify = vsock_notify,
	.reset = vsock_reset,
	/* a rollback to a snapshot, whose guest had no connection: the host's peers read EOF */
	.disconnect = vsock_reset,
	.destroy = vsock_destroy,
	.save = vsock_save,
	.restore = vsock_restore,
};

static int vsock_listen(struct vsock *v, struct evloop *loop, struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int r;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", v->path);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epfd < 0)
		return ign_err_set(err, errno, "virtio-vsock: epoll");
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ign_err_set(err, errno, "vsock socket `%s`", v->path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno == EADDRINUSE)
			return ign_err_setx(err, errno, "vsock socket `%s` already exists (another "
					    "VM's, or left over: remove it)", v->path);
		return ign_err_set(err, errno, "vsock socket `%s`", v->path);
	}
	v->listen_fd = steal_fd(&fd);
	if (listen(v->listen_fd, 64) < 0)
		return ign_err_set(err, errno, "vsock socket `%s`: listen", v->path);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->listen_fd, &ev) < 0)
		return ign_err_set(err, errno, "virtio-vsock: epoll");
	if (loop && (r = evloop_add(loop, v->epfd, EPOLLIN, vsock_event, &v->dev, err)) < 0)
		return ign_err_wrap(err, "virtio-vsock");
	return 0;
}

int virtio_vsock_create(uint64_t guest_cid, const char *path, const struct guest_mem *mem,
			struct evloop *loop, struct virtio_dev **out, struct ign_err *err)
{
	int r;

	if (guest_cid < 3 || guest_cid > UINT32_MAX)
		return ign_err_setx(err, EINVAL, "vsock guest CID %llu: must be 3 to %u",
				    (unsigned long long)guest_cid, UINT32_MAX);
	/* Room for "_<port>" after the path, for guest-initiated connections. */
	if (strlen(path) + 11 >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "vsock socket path `%s` is over %zu bytes",
				    path, sizeof(((struct sockaddr_un *)0)->sun_path) - 12);
	struct vsock *v = calloc(1, sizeof(*v));
	if (!v)
		return ign_err_set(err, ENOMEM, "virtio-vsock");
	v->listen_fd = v->epfd = -1;
	v->config.guest_cid = guest_cid;
	v->next_port = EPHEMERAL_FIRST;
	snprintf(v->path, sizeof(v->path), "%s", path);
	virtio_dev_init(&v->dev, &vsock_ops, v, mem, 0);
	if ((r = vsock_listen(v, loop, err)) < 0) {
		vsock_destroy(&v->dev);
		return r;
	}
	*out = &v->dev;
	return 0;
}
