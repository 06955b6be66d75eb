// SPDX-License-Identifier: Apache-2.0
/*
 * reset ID (ours, not runc's): the container's VM rolls back to the warm base
 * it was cloned from, and its process starts again from there on the same
 * stdio (docs/warm-bases.md). checkpoint and restore: refused, saying why.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "ctl.h"

int cmd_reset(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	struct container c;
	int r;

	if (argc != 2)
		return ign_err_setx(err, EINVAL, "reset: want exactly one container id");
	if ((r = container_load(g, argv[1], &c, err)) < 0)
		return r;
	if ((r = ign_state_allows(&c.st, IGN_OP_RESET, err)) == 0 &&
	    (r = ign_ctl_call(c.dir, "reset", 0, 0, err)) < 0)
		ign_err_wrap(err, "reset `%s`", c.st.id);
	container_free(&c);
	return r;
}

int cmd_checkpoint(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	(void)g, (void)argc;
	return ign_err_setx(err, ENOTSUP, "%s: not supported by ign-runtime: the workload's stdio "
			    "and the shim's control channel are live vsock connections, which a "
			    "snapshot cannot carry to a new shim (docs/warm-bases.md, \"Checkpoint and "
			    "restore\"); `ign-runtime reset ID` rolls a container back to its warm base",
			    argv[0]);
}
