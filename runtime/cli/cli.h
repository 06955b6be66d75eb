/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ign-runtime's commands, one file each, runc's flags and output. Each
 * returns the exit status for main() (>= 0) or a negative errno with err set;
 * only main() prints.
 */
#ifndef IGN_CLI_H
#define IGN_CLI_H

#include <limits.h>

#include "config.h"
#include "ign/err.h"
#include "state.h"

#define IGN_BASES_DIR ".bases"  /* under the state root: warm bases (runtime/base/base.h) */

struct globals {
	const char *root;        /* state root */
	const char *log;         /* --log file, or NULL */
	int log_json, debug, systemd_cgroup;
};

int cmd_create(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_start(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_state(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_kill(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_delete(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_run(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_exec(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_list(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_spec(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_features(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_bases(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_reset(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_ports(struct globals *g, int argc, char **argv, struct ign_err *err);
int cmd_checkpoint(struct globals *g, int argc, char **argv, struct ign_err *err);

/* ---- shared by the commands (container.c) ---- */
struct container {
	char dir[PATH_MAX];
	struct ign_state st;
};

/* Loads <root>/<id>; "container `id` does not exist" when absent. Refreshes the status. */
int container_load(struct globals *g, const char *id, struct container *c, struct ign_err *err);
void container_free(struct container *c);
/* rm -rf of the state directory. */
int container_remove(const char *dir, struct ign_err *err);
/* Runs the hooks of one kind with the state on stdin. */
int hooks_run(const struct ign_oci_config *cfg, enum ign_hook_kind kind,
	      const struct ign_state *st, struct ign_err *err);
/* Writes pid to path atomically (.name + rename), without a newline, as runc does. */
int pidfile_write(const char *path, int pid, struct ign_err *err);
/* "KILL", "SIGKILL", "9" -> 9 */
int signal_parse(const char *s, struct ign_err *err);
/* Where ign-shim, the guest kernel, ign-init's initramfs and the image cache are. */
int find_shim(char *buf, size_t len, struct ign_err *err);
int find_share(const char *env, const char *name, char *buf, size_t len, struct ign_err *err);
const char *image_cache(char *buf, size_t len);
/*
 * Kills the shim and waits until it and its VM are gone: 0, or -1 when it
 * is still there after SHIM_EXIT_WAIT_S (a process stuck in the kernel).
 */
#define SHIM_EXIT_WAIT_S 60
int shim_kill_wait(const struct ign_state *st);
/* start's work: the created container's process runs; startContainer and poststart hooks. */
int start_container(struct container *c, struct ign_err *err);
/* Ends a create that failed after the state directory was made. */
void create_undo(struct container *c);
/* The `create` part of create and run; *shim_pid set. */
int create_container(struct globals *g, const char *id, const char *bundle,
		     const char *console_socket, const char *pid_file, int *shim_pid,
		     struct ign_err *err);

#endif
