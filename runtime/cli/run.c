// SPDX-License-Identifier: Apache-2.0
/*
 * run [--bundle DIR] [--console-socket S] [--pid-file F] [--detach] [--keep] ID:
 * create + start; in the foreground, waits for the container and exits with
 * its status, deleting it afterwards unless --keep.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

int cmd_run(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, 'p' }, { "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' }, { "no-subreaper", no_argument, NULL, 'S' },
		{ "no-pivot", no_argument, NULL, 'P' }, { "no-new-keyring", no_argument, NULL, 'K' },
		{ "preserve-fds", required_argument, NULL, 'F' }, { 0 },
	};
	const char *bundle = ".", *console = NULL, *pid_file = NULL;
	int c, pid, detach = 0, keep = 0, status, r;
	struct container ct;

	while ((c = getopt_long(argc, argv, "+b:d", longs, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 's': console = optarg; break;
		case 'p': pid_file = optarg; break;
		case 'd': detach = 1; break;
		case 'k': keep = 1; break;
		case 'S': case 'P': case 'K': break;
		case 'F':
			if (atoi(optarg) != 0)
				return ign_err_setx(err, ENOTSUP, "--preserve-fds: not into a VM");
			break;
		default: return ign_err_setx(err, EINVAL, "run: bad option");
		}
	}
	if (optind != argc - 1)
		return ign_err_setx(err, EINVAL, "run: want exactly one container id");
	const char *id = argv[optind];
	if ((r = create_container(g, id, bundle, console, pid_file, &pid, err)) < 0)
		return r;
	if ((r = container_load(g, id, &ct, err)) < 0)
		return r;
	if ((r = start_container(&ct, err)) < 0) {
		create_undo(&ct);
		container_free(&ct);
		return r;
	}
	if (detach) {
		container_free(&ct);
		return 0;
	}
	/* The shim is our child: its status is the container's. */
	signal(SIGINT, SIG_IGN);   /* a terminal's ^C reaches the shim too, which forwards it */
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!keep)
		container_remove(ct.dir, NULL);
	container_free(&ct);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
