/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Published guest ports (the annotation io.ign.ports, docs/runtime.md): the
 * shim listens on 127.0.0.1, on a port the host picks or on one given, and
 * joins each connection it accepts to a new vsock connection to the guest's
 * port, through the VMM's socket. The listening sockets are made before the
 * shim enters the container's network namespace and loads its seccomp
 * filter (which has no AF_INET socket()): localhost is the host's.
 */
#ifndef IGN_SHIM_FORWARD_H
#define IGN_SHIM_FORWARD_H

#include <poll.h>

#include "agent.h"
#include "ign/err.h"
#include "ign/relay.h"

#define IGN_FWD_MAX 8        /* published ports */
#define IGN_FWD_CONNS 32     /* connections through them at once */
#define IGN_FWD_NFDS (IGN_FWD_MAX + 2 * IGN_FWD_CONNS)

/*
 * A connection is joined in steps, never blocking the shim's loop: dial the
 * VMM, read its answer as it comes, then relay. A guest port with no
 * listener (the VMM closes the dial) is dialled again every 10 ms until
 * IGN_FWD_CONNECT_MS after the accept; a dial the guest has not answered at
 * all (a busy guest, a stalled host) gets IGN_FWD_ANSWER_MS. Then the
 * client's connection is closed.
 */
#define IGN_FWD_CONNECT_MS 1000
#define IGN_FWD_ANSWER_MS IGN_AGENT_IO_TIMEOUT_MS

struct ign_fwd_conn {
	int tcp, vs;                /* vs -1: between two attempts */
	unsigned port;              /* its index in port[] */
	int joined;                 /* the guest said OK: relaying */
	long long deadline, retry;  /* CLOCK_MONOTONIC ms: no more dials; dial again */
	long long answer_by;        /* the dial in flight (vs): give up without its answer */
	size_t nline;
	char line[IGN_VSOCK_ANSWER_MAX];  /* the VMM's answer so far */
	struct ign_relay up, down;  /* tcp -> guest, guest -> tcp */
};

struct ign_forwards {
	const char *vsock;          /* the VMM's vsock socket */
	unsigned n;
	struct { int fd; unsigned guest, host; } port[IGN_FWD_MAX];
	struct ign_fwd_conn *conn[IGN_FWD_CONNS];
};

/*
 * "GUEST[,GUEST...]", each GUEST a vsock port, or HOST:GUEST for a fixed
 * host port (1 to 65535 both). Errors name the annotation's bad entry.
 */
int ign_forwards_parse(const char *spec, struct ign_forwards *f, struct ign_err *err);
/* Listens on 127.0.0.1 for each; f->port[i].host becomes the port bound. */
int ign_forwards_listen(struct ign_forwards *f, struct ign_err *err);
/* Writes "GUEST 127.0.0.1:HOST" lines to path (tmp + rename). */
int ign_forwards_publish(const struct ign_forwards *f, const char *path, struct ign_err *err);
/*
 * Fills IGN_FWD_NFDS pollfds (unused: fd -1); after poll, steps them. The
 * poll waits at most ign_forwards_timeout() ms (-1: no deadline pending).
 */
void ign_forwards_pollfds(const struct ign_forwards *f, struct pollfd *p);
int ign_forwards_timeout(const struct ign_forwards *f);
void ign_forwards_step(struct ign_forwards *f, const struct pollfd *p);
void ign_forwards_close(struct ign_forwards *f);

#endif
