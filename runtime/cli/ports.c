// SPDX-License-Identifier: Apache-2.0
/*
 * ports ID (ours, like `podman port`): the guest ports the container publishes
 * (annotation io.ign.ports) and the 127.0.0.1 ports its shim listens on for
 * them, one "GUEST 127.0.0.1:HOST" line each.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ign/fdio.h"

int cmd_ports(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	struct container c;
	char path[PATH_MAX + 8], *text = NULL;
	size_t len;
	int r;

	if (argc != 2)
		return ign_err_setx(err, EINVAL, "ports: want exactly one container id");
	if ((r = container_load(g, argv[1], &c, err)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/ports", c.dir);
	if (c.st.status == IGN_STOPPED)
		r = ign_err_setx(err, EINVAL, "container `%s` is stopped: it publishes nothing",
				 c.st.id);
	else if ((r = ign_read_file(path, 4096, &text, &len, NULL)) < 0)
		r = ign_err_setx(err, ENOENT, "container `%s` publishes no ports (the annotation "
				 "io.ign.ports names them)", c.st.id);
	else
		fwrite(text, 1, len, stdout);
	free(text);
	container_free(&c);
	return r;
}
