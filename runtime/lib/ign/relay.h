/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One direction of a byte relay between two file descriptors, driven by
 * poll(2): a buffer that is filled from `from` only when empty, and drained
 * into `to` as `to` accepts it, so neither side can stall the other's
 * direction. Used for stdio streams and ptys (ign-init, ign-agentctl).
 */
#ifndef IGN_RELAY_H
#define IGN_RELAY_H

#include <poll.h>
#include <stddef.h>

#define IGN_RELAY_BUF 65536

struct ign_relay {
	int from, to;        /* to: -1 drops the data */
	int shut_on_eof;     /* shutdown(to, SHUT_WR) once from ends and all is written */
	int eof;             /* from has ended (or to broke) */
	size_t off, len;
	char buf[IGN_RELAY_BUF];
};

void ign_relay_init(struct ign_relay *r, int from, int to, int shut_on_eof);
/* What to wait for: reading `from`, or writing `to` while data is buffered. */
void ign_relay_pollfd(const struct ign_relay *r, struct pollfd *p);
/*
 * One step after poll said ready: one read when the buffer is empty, then
 * writes until `to` would block. Returns 1 if anything moved or ended.
 */
int ign_relay_step(struct ign_relay *r);
/* from has ended and everything read was written. */
int ign_relay_done(const struct ign_relay *r);

#endif
