// SPDX-License-Identifier: Apache-2.0
/* state ID: runc's state JSON, indented. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ign/cleanup.h"

int cmd_state(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	struct container c;
	int r;

	if (argc != 2)
		return ign_err_setx(err, EINVAL, "state: want exactly one container id");
	if ((r = container_load(g, argv[1], &c, err)) < 0)
		return r;
	struct ign_jgen *jg = ign_jgen_new_pretty();
	ign_state_gen(&c.st, jg);
	ign_jgen_map_close(jg);
	cleanup_free char *text = ign_jgen_finish(jg);
	ign_jgen_free(jg);
	container_free(&c);
	if (!text)
		return ign_err_setx(err, EINVAL, "state: cannot encode");
	printf("%s\n", text);
	return 0;
}
