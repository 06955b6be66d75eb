// SPDX-License-Identifier: Apache-2.0
/*
 * delete [--force] ID: a stopped or created container goes; a running one
 * only with --force (its shim, and so its VM, is killed first). Then the
 * poststop hooks. A damaged state directory goes with --force, and with
 * it the shim found listening on its control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ctl.h"
#include "netns.h"

/* the shim killed, or a warning naming the process that outlived the wait */
static void shim_gone(const struct ign_state *st)
{
	if (shim_kill_wait(st) < 0)
		fprintf(stderr, "ign-runtime: warning: the shim (pid %d) is still exiting %d s after "
			"SIGKILL; its state goes now, see /proc/%d/stack\n", st->pid, SHIM_EXIT_WAIT_S,
			st->pid);
}

int cmd_delete(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	struct container c;
	int force = 0, opt, r;

	while ((opt = getopt_long(argc, argv, "+f", longs, NULL)) != -1) {
		if (opt != 'f')
			return ign_err_setx(err, EINVAL, "delete: bad option");
		force = 1;
	}
	if (optind != argc - 1)
		return ign_err_setx(err, EINVAL, "delete: want exactly one container id");
	if ((r = container_load(g, argv[optind], &c, err)) < 0) {
		struct stat sb;
		/* the directory is there but its state is not (damaged, or never written) */
		if (!force || !c.dir[0] || stat(c.dir, &sb) < 0)
			return r;
		/* state.json is unreadable: a shim still listening there goes first */
		int pid = ign_ctl_peer_pid(c.dir);
		if (pid > 0)
			shim_gone(&(struct ign_state){ .pid = pid, .pid_start = ign_proc_start_time(pid) });
		return container_remove(c.dir, err);
	}
	if ((r = ign_state_allows(&c.st, force ? IGN_OP_DELETE_FORCE : IGN_OP_DELETE, err)) < 0)
		goto out;
	shim_gone(&c.st);
	struct ign_oci_config cfg;
	int have_cfg = ign_oci_load(c.st.bundle, &cfg, NULL) == 0;
	struct ign_err werr = { 0 };
	/* a shim that was killed left its tc redirect on the caller's interface */
	if (have_cfg && cfg.netns && ign_netns_clear(cfg.netns, &werr) < 0)
		fprintf(stderr, "ign-runtime: warning: %s\n", werr.msg);
	if ((r = container_remove(c.dir, err)) == 0 && have_cfg) {
		c.st.status = IGN_STOPPED;
		if (hooks_run(&cfg, IGN_HOOK_POSTSTOP, &c.st, &werr) < 0)
			fprintf(stderr, "ign-runtime: warning: %s\n", werr.msg);
	}
	if (have_cfg)
		ign_oci_free(&cfg);
out:
	container_free(&c);
	return r;
}
