// SPDX-License-Identifier: Apache-2.0
/* start ID: the created container's process runs; then the poststart hooks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl.h"

int start_container(struct container *c, struct ign_err *err)
{
	struct ign_oci_config cfg;
	int r;

	if ((r = ign_state_allows(&c->st, IGN_OP_START, err)) < 0 ||
	    (r = ign_ctl_call(c->dir, "start", 0, 0, err)) < 0)
		return r;
	if (ign_oci_load(c->st.bundle, &cfg, NULL) == 0) {
		struct ign_err herr = { 0 };
		c->st.status = IGN_RUNNING;
		if (hooks_run(&cfg, IGN_HOOK_START_CONTAINER, &c->st, &herr) < 0 ||
		    hooks_run(&cfg, IGN_HOOK_POSTSTART, &c->st, &herr) < 0)
			fprintf(stderr, "ign-runtime: warning: %s\n", herr.msg);
		ign_oci_free(&cfg);
	}
	return 0;
}

int cmd_start(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	struct container c;
	int r;

	if (argc != 2)
		return ign_err_setx(err, EINVAL, "start: want exactly one container id");
	if ((r = container_load(g, argv[1], &c, err)) < 0)
		return r;
	r = start_container(&c, err);
	container_free(&c);
	return r;
}
