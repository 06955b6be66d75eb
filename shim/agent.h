/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the agent protocol (docs/agent-protocol.md): reaching
 * ign-init through the VMM's vsock socket, control requests, stdio streams.
 * The guest is untrusted: every read is bounded in size and in time.
 */
#ifndef IGN_SHIM_AGENT_H
#define IGN_SHIM_AGENT_H

#include "ign/err.h"
#include "ign/json.h"

#define IGN_AGENT_EXITS_MAX 32
/*
 * The longest wait for one reply: it bounds a wedged guest, and is long enough
 * to ride out a host that stops a VM's threads for seconds (a loaded machine;
 * nested test VMs whose L1 CPU stalls for over 20 s now and then).
 */
#define IGN_AGENT_IO_TIMEOUT_MS 30000

struct ign_agent {
	int ctl;                 /* control connection */
	const char *vsock;       /* the VMM's vsock socket */
	int io_timeout_ms;       /* for each reply and each message's bytes */
	unsigned nexits;         /* exit events read while waiting for replies */
	struct { char id[65]; int status; } exits[IGN_AGENT_EXITS_MAX];
};

/*
 * Connects to guest vsock port `port` through the VMM socket `vsock`: the
 * "CONNECT <port>" handshake. Retries while the VMM or the guest's listener
 * is not up yet, until timeout_ms.
 */
int ign_vsock_connect(const char *vsock, unsigned port, int timeout_ms, int *out,
		      struct ign_err *err);
/*
 * The handshake in steps, for a caller that cannot block (the published
 * ports): dial connects to the VMM socket and sends "CONNECT <port>" (-EAGAIN
 * while the VMM is not up); read_answer reads the answer into line[*n...],
 * up to and with its '\n' or to EOF (0), or until read fails (-errno; -EAGAIN:
 * nothing more yet, or SO_RCVTIMEO); answer judges those n bytes: -EAGAIN
 * when the connection closed before a whole line (nothing listens on the
 * guest port yet). The VMM answers "OK <host port>\n", under
 * IGN_VSOCK_ANSWER_MAX bytes.
 */
#define IGN_VSOCK_ANSWER_MAX 40
int ign_vsock_dial(const char *vsock, unsigned port, int nonblock, struct ign_err *err);
int ign_vsock_read_answer(int fd, char *line, size_t *n);
int ign_vsock_answer(const char *vsock, unsigned port, const char *line, size_t n,
		     struct ign_err *err);
/* CLOCK_MONOTONIC in ms, for the connections' deadlines. */
long long ign_now_ms(void);
/* Opens a control connection and says hello. */
int ign_agent_open(struct ign_agent *a, const char *vsock, int timeout_ms, struct ign_err *err);
void ign_agent_close(struct ign_agent *a);
/*
 * Sends one request and waits for its reply. An "error" reply becomes err
 * (with the guest's message); an "ok" reply is returned in *reply if wanted.
 */
int ign_agent_call(struct ign_agent *a, const char *json, struct ign_json **reply,
		   struct ign_err *err);
/* Opens a stream connection for process id: stdin, stdout, stderr or pty. */
int ign_agent_attach(struct ign_agent *a, const char *id, const char *stream, int *out,
		     struct ign_err *err);
/* Reads one message from the control connection (call when it is readable). */
int ign_agent_read_event(struct ign_agent *a, struct ign_err *err);
/* Reads events until process id's exit (for at most timeout_ms a read); *status set. */
int ign_agent_wait_exit(struct ign_agent *a, const char *id, int timeout_ms, int *status,
			struct ign_err *err);
/* Whether an exit of process id was seen; *status set when it was. */
int ign_agent_exited(const struct ign_agent *a, const char *id, int *status);

#endif
