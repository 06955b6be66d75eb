// SPDX-License-Identifier: Apache-2.0
#include "ign/relay.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

void ign_relay_init(struct ign_relay *r, int from, int to, int shut_on_eof)
{
	r->from = from;
	r->to = to;
	r->shut_on_eof = shut_on_eof;
	r->eof = from < 0;
	r->off = r->len = 0;
}

void ign_relay_pollfd(const struct ign_relay *r, struct pollfd *p)
{
	p->revents = 0;
	if (r->len) {
		p->fd = r->to;
		p->events = POLLOUT;
	} else {
		p->fd = r->eof ? -1 : r->from;
		p->events = POLLIN;
	}
}

static void ended(struct ign_relay *r)
{
	r->eof = 1;
	if (r->shut_on_eof && r->to >= 0 && !r->len)
		shutdown(r->to, SHUT_WR);
}

int ign_relay_step(struct ign_relay *r)
{
	int moved = 0;

	if (!r->len && !r->eof) {
		ssize_t n = read(r->from, r->buf, sizeof(r->buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {  /* EOF, or EIO once a pty's last user is gone */
			ended(r);
			return 1;
		}
		r->off = 0, r->len = n, moved = 1;
	}
	while (r->len) {
		if (r->to < 0) {
			r->len = 0;  /* nobody to give it to */
			break;
		}
		ssize_t w = write(r->to, r->buf + r->off, r->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return moved;
		if (w <= 0) {  /* the reader is gone: stop relaying */
			r->len = 0;
			r->eof = 1;
			return 1;
		}
		r->off += w, r->len -= w, moved = 1;
	}
	if (r->eof)
		ended(r);
	return moved;
}

int ign_relay_done(const struct ign_relay *r)
{
	return r->eof && !r->len;
}
