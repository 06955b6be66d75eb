// SPDX-License-Identifier: Apache-2.0
/*
 * create [--bundle DIR] [--console-socket S] [--pid-file F] [--no-pivot]
 *        [--no-new-keyring] [--preserve-fds N] ID
 * Starts ign-shim as our child (it outlives us: the caller, conmon, is a
 * subreaper and reaps it), waits until the guest's main process is ready to
 * start, runs the prestart/createRuntime/createContainer hooks, writes the
 * pid file and returns. The workload is not started.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"

void create_undo(struct container *c)
{
	struct ign_state now;

	if (ign_state_read(c->dir, &now, NULL) == 0) {
		shim_kill_wait(&now);
		ign_state_free(&now);
	}
	container_remove(c->dir, NULL);
}

static int spawn_shim(struct globals *g, struct container *c, const char *console_socket,
		      int *pid, struct ign_err *err)
{
	char shim[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX], cache[PATH_MAX], bases[PATH_MAX];
	char shim_log[PATH_MAX + 16];
	const char *argv[20];
	int n = 0, ready[2], r;

	if ((r = find_shim(shim, sizeof(shim), err)) < 0 ||
	    (r = find_share("IGN_KERNEL", "vmlinux", kernel, sizeof(kernel), err)) < 0 ||
	    (r = find_share("IGN_INITRD", "ign-init.cpio.gz", initrd, sizeof(initrd), err)) < 0)
		return r;
	argv[n++] = shim;
	argv[n++] = "--dir", argv[n++] = c->dir;
	argv[n++] = "--kernel", argv[n++] = kernel;
	argv[n++] = "--initrd", argv[n++] = initrd;
	argv[n++] = "--cache", argv[n++] = image_cache(cache, sizeof(cache));
	snprintf(bases, sizeof(bases), "%s/" IGN_BASES_DIR, g->root);
	argv[n++] = "--bases", argv[n++] = bases;
	if (console_socket)
		argv[n++] = "--console-socket", argv[n++] = console_socket;
	/* the shim's own log: --log must hold only our one error for podman to parse */
	snprintf(shim_log, sizeof(shim_log), "%s/shim.log", c->dir);
	argv[n++] = "--log", argv[n++] = shim_log;
	if (g->log_json)
		argv[n++] = "--log-format", argv[n++] = "json";
	if (g->debug)
		argv[n++] = "--debug";
	argv[n] = NULL;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return ign_err_set(err, errno, "pipe");
	pid_t self = getpid(), child = fork();
	if (child == 0) {
		/*
		 * Until it says ready, the shim dies with us: a create killed midway
		 * leaves no shim nobody knows of (it clears this before "ok").
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self ||
		    dup2(ready[1], 3) < 0)
			_exit(125);
		execv(shim, (char **)argv);
		dprintf(3, "exec `%s`: %s", shim, strerror(errno));
		_exit(125);
	}
	close(ready[1]);
	if (child < 0) {
		close(ready[0]);
		return ign_err_set(err, errno, "fork");
	}
	*pid = child;
	char msg[IGN_ERR_MSG_MAX];
	ssize_t len = ign_read_full(ready[0], msg, sizeof(msg) - 1);
	close(ready[0]);
	msg[len > 0 ? len : 0] = 0;
	if (!strcmp(msg, "ok"))
		return 0;
	int status = 0;
	waitpid(child, &status, 0);
	if (msg[0])
		return ign_err_setx(err, strstr(msg, "not found") ? ENOENT : EIO, "%s", msg);
	return ign_err_setx(err, EIO, "ign-shim ended during create (%s %d); see --log",
			    WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int create_container(struct globals *g, const char *id, const char *bundle_arg,
		     const char *console_socket, const char *pid_file, int *shim_pid,
		     struct ign_err *err)
{
	struct ign_oci_config cfg;
	struct container c = { 0 };
	char bundle[PATH_MAX];
	int r;

	if (!realpath(bundle_arg, bundle))
		return ign_err_set(err, errno, "bundle `%s`", bundle_arg);
	if ((r = ign_state_dir(g->root, id, c.dir, sizeof(c.dir), err)) < 0)
		return r;
	if ((r = ign_oci_load(bundle, &cfg, err)) < 0)
		goto out_cfg;
	if ((r = ign_mkdir_p(g->root, 0711)) < 0) {
		r = ign_err_set(err, -r, "state root `%s`", g->root);
		goto out_cfg;
	}
	if (mkdir(c.dir, 0700) < 0) {
		r = errno == EEXIST ? ign_err_setx(err, EEXIST, "container `%s` already exists", id)
				    : ign_err_set(err, errno, "state directory `%s`", c.dir);
		goto out_cfg;
	}
	struct ign_state *st = &c.st;
	*st = (struct ign_state){ .status = IGN_CREATING, .exit_status = -1 };
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->oci_version, sizeof(st->oci_version), "%s", cfg.oci_version);
	snprintf(st->bundle, sizeof(st->bundle), "%s", bundle);
	if (cfg.rootfs[0] == '/')
		snprintf(st->rootfs, sizeof(st->rootfs), "%s", cfg.rootfs);
	else if ((size_t)snprintf(st->rootfs, sizeof(st->rootfs), "%.*s/%s", PATH_MAX - 2, bundle,
				  cfg.rootfs) >= sizeof(st->rootfs)) {
		r = ign_err_setx(err, ENAMETOOLONG, "root.path: too long");
		goto undo;
	}
	char real[PATH_MAX];
	if (realpath(st->rootfs, real))  /* a root.path that is a symlink: its directory's tree */
		snprintf(st->rootfs, sizeof(st->rootfs), "%s", real);
	ign_now_rfc3339(st->created, sizeof(st->created));
	if (cfg.annotations) {
		struct ign_jgen *jg = ign_jgen_new();
		ign_jgen_node(jg, cfg.annotations);
		cleanup_free char *t = ign_jgen_finish(jg);
		ign_jgen_free(jg);
		if (t)
			ign_json_parse(t, &st->annotations, NULL);
	}
	if ((r = ign_state_write(c.dir, st, err)) < 0)
		goto undo;
	if ((r = spawn_shim(g, &c, console_socket, shim_pid, err)) < 0)
		goto undo;
	ign_state_free(st);
	if ((r = ign_state_read(c.dir, st, err)) < 0)
		goto undo;
	for (int k = IGN_HOOK_PRESTART; k <= IGN_HOOK_CREATE_CONTAINER; k++)
		if ((r = hooks_run(&cfg, k, st, err)) < 0)
			goto undo;
	if (pid_file && (r = pidfile_write(pid_file, *shim_pid, err)) < 0)
		goto undo;
	r = 0;
	goto out;
undo:
	create_undo(&c);
out:
	container_free(&c);
out_cfg:
	ign_oci_free(&cfg);
	return r;
}

int cmd_create(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-pivot", no_argument, NULL, 'P' }, { "no-new-keyring", no_argument, NULL, 'K' },
		{ "preserve-fds", required_argument, NULL, 'F' }, { 0 },
	};
	const char *bundle = ".", *console = NULL, *pid_file = NULL;
	int c, pid, r;

	while ((c = getopt_long(argc, argv, "+b:", longs, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 's': console = optarg; break;
		case 'p': pid_file = optarg; break;
		case 'P': case 'K': break;
		case 'F':
			if (atoi(optarg) != 0)
				return ign_err_setx(err, ENOTSUP, "--preserve-fds %s: file descriptors "
						    "cannot be passed into a VM", optarg);
			break;
		default: return ign_err_setx(err, EINVAL, "create: bad option (see --help)");
		}
	}
	if (optind != argc - 1)
		return ign_err_setx(err, EINVAL, "create: want exactly one container id");
	if ((r = create_container(g, argv[optind], bundle, console, pid_file, &pid, err)) < 0)
		return r;
	return 0;
}
