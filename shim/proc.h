/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One guest process seen from the host: spawned through ign-init, its stdio
 * streams attached, then relayed to host fds step by step from the caller's
 * poll loop (the shim's loop also serves its control socket; the exec proxy's
 * and ign-agentctl's only this). Used by ign-shim, `ign-runtime exec` and
 * ign-agentctl.
 */
#ifndef IGN_SHIM_PROC_H
#define IGN_SHIM_PROC_H

#include <poll.h>

#include "agent.h"
#include "ign/relay.h"

#define IGN_PROC_NFDS 3

struct ign_proc {
	struct ign_agent *agent;
	char id[65];
	int tty;
	int streams[3];        /* guest stdin, stdout, stderr; with a tty [0] == [1], the pty */
	struct ign_relay rel[3];
	int started, exited, status;
};

/*
 * The spawn message (docs/agent-protocol.md) for `process` (an OCI process
 * object); `extra`, if given, adds the main process's members (hostname,
 * mounts, network) as a JSON object's members. malloc'd, NULL on failure.
 */
char *ign_proc_spawn_message(const char *id, int is_main, const struct ign_json *process,
			     const struct ign_json *extra);
/* A process given by command-line flags (`ign-runtime exec` without --process, ign-agentctl). */
struct ign_proc_flags {
	char *const *args;         /* NULL-terminated */
	const char *const *env;    /* after PATH (and TERM=xterm with a tty) */
	unsigned nenv;
	const char *cwd;           /* NULL: "/" */
	long uid, gid;
	int tty;
};

/* Writes the OCI process members for f (args, env, cwd, user, terminal) into an open map. */
void ign_proc_flags_json(struct ign_jgen *g, const struct ign_proc_flags *f);
/* Sends spawn and attaches the streams; nothing runs yet. */
int ign_proc_spawn(struct ign_agent *a, const char *id, int tty, const char *spawn_json,
		   struct ign_proc *p, struct ign_err *err);
/* Sends spawn with no stream attached: its stdio is the guest's /dev/null. */
int ign_proc_spawn_detached(struct ign_agent *a, const char *id, const char *spawn_json,
			    struct ign_proc *p, struct ign_err *err);
/* Starts it; from now on relay between host fds in/out/errfd (-1: none) and its streams. */
int ign_proc_start(struct ign_proc *p, int in, int out, int errfd, int *guest_pid,
		   struct ign_err *err);
int ign_proc_signal(struct ign_proc *p, int sig, int all, struct ign_err *err);
int ign_proc_resize(struct ign_proc *p, unsigned rows, unsigned cols, struct ign_err *err);
/* Fills IGN_PROC_NFDS pollfds; after poll, steps them. */
void ign_proc_pollfds(const struct ign_proc *p, struct pollfd *fds);
void ign_proc_step(struct ign_proc *p, const struct pollfd *fds);
/* Notes an exit event read on the agent's control connection. */
void ign_proc_check_exit(struct ign_proc *p);
/* Exited, and all of its output was written out. */
int ign_proc_done(const struct ign_proc *p);
void ign_proc_close(struct ign_proc *p);

#endif
