// SPDX-License-Identifier: Apache-2.0
/* kill [--all] ID [SIGNAL]: into the guest, through the shim. SIGNAL: 9, KILL or SIGKILL. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "ctl.h"

int cmd_kill(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
	struct container c;
	int all = 0, sig = SIGTERM, opt, r;

	while ((opt = getopt_long(argc, argv, "+a", longs, NULL)) != -1) {
		if (opt != 'a')
			return ign_err_setx(err, EINVAL, "kill: bad option");
		all = 1;
	}
	if (optind >= argc || argc - optind > 2)
		return ign_err_setx(err, EINVAL, "kill: want ID [SIGNAL]");
	if (argc - optind == 2 && (sig = signal_parse(argv[optind + 1], err)) < 0)
		return sig;
	if ((r = container_load(g, argv[optind], &c, err)) < 0)
		return r;
	if ((r = ign_state_allows(&c.st, IGN_OP_KILL, err)) < 0) {
		/* refused: nothing changes */
	} else if ((r = ign_ctl_call(c.dir, "kill", sig, all, err)) < 0 && sig == SIGKILL) {
		/* a shim that cannot be told still goes, and the VM with it */
		shim_kill_wait(&c.st);
		r = 0;
	}
	container_free(&c);
	return r;
}
