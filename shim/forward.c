// SPDX-License-Identifier: Apache-2.0
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/log.h"

static int port_number(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

int ign_forwards_parse(const char *spec, struct ign_forwards *f, struct ign_err *err)
{
	const char *p = spec;

	f->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		unsigned host = 0, guest;
		int bad = colon ? port_number(p, colon - p, &host) < 0 ||
				  port_number(colon + 1, len - (colon + 1 - p), &guest) < 0
				: port_number(p, len, &guest) < 0;
		if (bad)
			return ign_err_setx(err, EINVAL, "annotation io.ign.ports: `%.*s` is not GUEST "
					    "or HOST:GUEST (ports 1 to 65535)", (int)len, p);
		if (f->n == IGN_FWD_MAX)
			return ign_err_setx(err, EINVAL, "annotation io.ign.ports: more than %d ports",
					    IGN_FWD_MAX);
		f->port[f->n].fd = -1;
		f->port[f->n].guest = guest;
		f->port[f->n++].host = host;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int ign_forwards_listen(struct ign_forwards *f, struct ign_err *err)
{
	for (unsigned i = 0; i < f->n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->port[i].host),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);
		int one = 1;
		cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return ign_err_set(err, errno, "published port %u: socket", f->port[i].guest);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
			return ign_err_set(err, errno, "published port %u: listen on 127.0.0.1:%u",
					   f->port[i].guest, f->port[i].host);
		if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
			return ign_err_set(err, errno, "published port %u", f->port[i].guest);
		f->port[i].host = ntohs(a.sin_port);
		f->port[i].fd = steal_fd(&fd);
	}
	return 0;
}

int ign_forwards_publish(const struct ign_forwards *f, const char *path, struct ign_err *err)
{
	char text[IGN_FWD_MAX * 32] = "";
	size_t n = 0;

	char tmp[PATH_MAX + 8];
	int r;

	for (unsigned i = 0; i < f->n; i++)
		n += snprintf(text + n, sizeof(text) - n, "%u 127.0.0.1:%u\n", f->port[i].guest,
			      f->port[i].host);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ign_err_set(err, errno, "`%s`", tmp);
	if ((r = ign_write_all(fd, text, n)) < 0 || rename(tmp, path) < 0) {
		r = r < 0 ? r : -errno;
		unlink(tmp);
		return ign_err_set(err, -r, "`%s`", path);
	}
	return 0;
}

void ign_forwards_pollfds(const struct ign_forwards *f, struct pollfd *p)
{
	for (unsigned i = 0; i < IGN_FWD_MAX; i++)
		p[i] = (struct pollfd){ .fd = i < f->n ? f->port[i].fd : -1, .events = POLLIN };
	for (unsigned i = 0; i < IGN_FWD_CONNS; i++) {
		struct pollfd *q = &p[IGN_FWD_MAX + 2 * i];
		const struct ign_fwd_conn *c = f->conn[i];
		q[0] = q[1] = (struct pollfd){ .fd = -1 };
		if (c && !c->joined) {  /* the VMM's answer */
			q[1] = (struct pollfd){ .fd = c->vs, .events = POLLIN };
			continue;
		}
		if (c && !ign_relay_done(&c->up))
			ign_relay_pollfd(&c->up, &q[0]);
		if (c && !ign_relay_done(&c->down))
			ign_relay_pollfd(&c->down, &q[1]);
	}
}

int ign_forwards_timeout(const struct ign_forwards *f)
{
	long long next = -1, now = ign_now_ms();

	for (unsigned i = 0; i < IGN_FWD_CONNS; i++) {
		const struct ign_fwd_conn *c = f->conn[i];
		if (!c || c->joined)
			continue;
		long long t = c->vs >= 0 ? c->answer_by : c->retry;  /* retry: before the deadline */
		if (next < 0 || t < next)
			next = t;
	}
	return next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
}

static void conn_free(struct ign_fwd_conn **slot)
{
	close((*slot)->tcp);
	if ((*slot)->vs >= 0)
		close((*slot)->vs);
	free(*slot);
	*slot = NULL;
}

/* An attempt that failed: dial again in 10 ms, or give up (closes the client's connection). */
static void attempt_failed(struct ign_forwards *f, struct ign_fwd_conn **slot, int r,
			   const struct ign_err *err)
{
	struct ign_fwd_conn *c = *slot;

	if (c->vs >= 0)
		close(c->vs);
	c->vs = -1;
	c->nline = 0;
	c->retry = ign_now_ms() + 10;
	if (r == -EAGAIN && c->retry < c->deadline)
		return;
	log_warn("published port %u: %s%s", f->port[c->port].guest, err->msg,
		 r == -EAGAIN ? " (gave up)" : "");
	conn_free(slot);
}

static void dial(struct ign_forwards *f, struct ign_fwd_conn **slot)
{
	struct ign_fwd_conn *c = *slot;
	struct ign_err err = { 0 };
	int vs = ign_vsock_dial(f->vsock, f->port[c->port].guest, 1, &err);

	if (vs < 0) {
		attempt_failed(f, slot, vs, &err);
		return;
	}
	c->vs = vs;
	c->answer_by = ign_now_ms() + IGN_FWD_ANSWER_MS;
}

/* The VMM's answer, a byte at a time as it comes (what follows it is the stream's). */
static void read_answer(struct ign_forwards *f, struct ign_fwd_conn **slot)
{
	struct ign_fwd_conn *c = *slot;
	struct ign_err err = { 0 };
	int r = ign_vsock_read_answer(c->vs, c->line, &c->nline);

	if (r == -EAGAIN)
		return;  /* the rest later */
	if (r < 0)
		r = ign_err_setx(&err, EAGAIN, "guest port %u: %s", f->port[c->port].guest,
				 strerror(-r));
	else
		r = ign_vsock_answer(f->vsock, f->port[c->port].guest, c->line, c->nline, &err);
	if (r < 0) {
		attempt_failed(f, slot, r, &err);
		return;
	}
	c->joined = 1;
	ign_relay_init(&c->up, c->tcp, c->vs, 1);
	ign_relay_init(&c->down, c->vs, c->tcp, 1);
}

/* A connection not joined yet: its answer (q: its vs, polled), its next attempt, its limit. */
static void step_join(struct ign_forwards *f, struct ign_fwd_conn **slot, const struct pollfd *q)
{
	long long now = ign_now_ms();

	if ((*slot)->vs >= 0 && q->revents)
		read_answer(f, slot);
	if (*slot && !(*slot)->joined && (*slot)->vs < 0 && now >= (*slot)->retry)
		dial(f, slot);
	/* (refusals end at the deadline in attempt_failed) */
	if (*slot && !(*slot)->joined && (*slot)->vs >= 0 && now >= (*slot)->answer_by) {
		struct ign_err err;
		ign_err_setx(&err, ETIMEDOUT, "guest port %u did not answer in %d ms",
			     f->port[(*slot)->port].guest, IGN_FWD_ANSWER_MS);
		attempt_failed(f, slot, -ETIMEDOUT, &err);
	}
}

/* A new connection on published port i: joined to the guest's port in steps. */
static void accept_one(struct ign_forwards *f, unsigned i)
{
	unsigned slot = 0;

	cleanup_close int tcp = accept4(f->port[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (tcp < 0)
		return;
	while (slot < IGN_FWD_CONNS && f->conn[slot])
		slot++;
	if (slot == IGN_FWD_CONNS) {
		log_warn("published port %u: %d connections already, refusing one", f->port[i].guest,
			 IGN_FWD_CONNS);
		return;
	}
	struct ign_fwd_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->tcp = steal_fd(&tcp);
	c->vs = -1;
	c->port = i;
	c->deadline = ign_now_ms() + IGN_FWD_CONNECT_MS;
	f->conn[slot] = c;
	dial(f, &f->conn[slot]);
}

void ign_forwards_step(struct ign_forwards *f, const struct pollfd *p)
{
	for (unsigned i = 0; i < IGN_FWD_CONNS; i++) {
		const struct pollfd *q = &p[IGN_FWD_MAX + 2 * i];
		struct ign_fwd_conn *c = f->conn[i];
		if (!c)
			continue;
		if (!c->joined) {
			step_join(f, &f->conn[i], &q[1]);
			continue;
		}
		if (q[0].fd >= 0 && q[0].revents)
			ign_relay_step(&c->up);
		if (q[1].fd >= 0 && q[1].revents)
			ign_relay_step(&c->down);
		if (ign_relay_done(&c->up) && ign_relay_done(&c->down))
			conn_free(&f->conn[i]);
	}
	for (unsigned i = 0; i < f->n; i++)
		if (p[i].revents)
			accept_one(f, i);
}

void ign_forwards_close(struct ign_forwards *f)
{
	for (unsigned i = 0; i < IGN_FWD_CONNS; i++)
		if (f->conn[i])
			conn_free(&f->conn[i]);
	for (unsigned i = 0; i < f->n; i++)
		if (f->port[i].fd >= 0)
			close(f->port[i].fd);
	f->n = 0;
}
