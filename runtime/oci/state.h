/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's state under the state root (docs/runtime.md):
 *   <root>/<id>/state.json   OCI state plus the shim's pid, its start time
 *                            (a pid-reuse guard) and the exit status;
 *                            replaced whole by rename, never edited
 *   <root>/<id>/ctl.sock     the shim's control socket
 *   <root>/<id>/vsock.sock   the VM's vsock socket (exec proxies connect here)
 */
#ifndef IGN_OCI_STATE_H
#define IGN_OCI_STATE_H

#include <limits.h>

#include "ign/err.h"
#include "ign/json.h"

#define IGN_ID_MAX 128

enum ign_status { IGN_CREATING, IGN_CREATED, IGN_RUNNING, IGN_STOPPED };

struct ign_state {
	char id[IGN_ID_MAX + 1];
	char oci_version[32];
	enum ign_status status;
	int pid;                        /* the shim; 0 when stopped */
	unsigned long long pid_start;   /* its start time in clock ticks after boot */
	int exit_status;                /* -1 until known */
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	char created[40];               /* RFC 3339, UTC, nanoseconds */
	struct ign_json *annotations;   /* owned copy of config.json's; may be NULL */
};

const char *ign_status_name(enum ign_status s);

/* What a command does to a container, for the lifecycle's rules. */
enum ign_op { IGN_OP_START, IGN_OP_KILL, IGN_OP_EXEC, IGN_OP_DELETE, IGN_OP_DELETE_FORCE,
	      IGN_OP_RESET };
/*
 * The OCI lifecycle (and runc's habits): start needs created; kill created or
 * running; exec running; delete anything but running (and a live creating),
 * delete --force anything; reset (ours) created or running. Refusals say why, in runc's words.
 */
int ign_state_allows(const struct ign_state *st, enum ign_op op, struct ign_err *err);
/* Container ids as runc allows them: letters, digits, `_+-.`, not . or .. */
int ign_id_check(const char *id, struct ign_err *err);
/* <root>/<id>; err if it would not fit. */
int ign_state_dir(const char *root, const char *id, char *buf, size_t len, struct ign_err *err);
int ign_state_read(const char *dir, struct ign_state *st, struct ign_err *err);
int ign_state_write(const char *dir, const struct ign_state *st, struct ign_err *err);
void ign_state_free(struct ign_state *st);
/* A created or running container whose shim is gone (or was replaced by another pid) is stopped. */
void ign_state_refresh(struct ign_state *st);
/* Writes runc's state object (ociVersion, id, pid, status, bundle, rootfs, created, annotations, owner). */
void ign_state_gen(const struct ign_state *st, struct ign_jgen *g);
/* Field 22 of /proc/<pid>/stat; 0 if the process does not exist. */
unsigned long long ign_proc_start_time(int pid);
int ign_proc_alive(int pid, unsigned long long start);
void ign_now_rfc3339(char *buf, size_t len);

#endif
