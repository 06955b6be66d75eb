// SPDX-License-Identifier: Apache-2.0
/* list [--format table|json] [--quiet]: every container under the state root. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ign/cleanup.h"

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int cmd_list(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' }, { 0 },
	};
	int json = 0, quiet = 0, opt, n;
	struct dirent **names = NULL;

	while ((opt = getopt_long(argc, argv, "+f:q", longs, NULL)) != -1) {
		if (opt == 'q')
			quiet = 1;
		else if (opt == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
			json = !strcmp(optarg, "json");
		else
			return ign_err_setx(err, EINVAL, "list: --format table|json, --quiet");
	}
	n = scandir(g->root, &names, NULL, by_name);
	if (n < 0 && errno != ENOENT)
		return ign_err_set(err, errno, "state root `%s`", g->root);
	struct ign_jgen *jg = json ? ign_jgen_new() : NULL;
	if (jg)
		ign_jgen_array_open(jg);
	else if (!quiet)
		printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
		       "OWNER");
	for (int i = 0; i < n; i++) {
		struct container c;
		if (names[i]->d_name[0] == '.' ||
		    container_load(g, names[i]->d_name, &c, NULL) < 0) {
			free(names[i]);
			continue;  /* a damaged entry does not hide the others */
		}
		if (jg) {
			ign_state_gen(&c.st, jg);
			ign_jgen_map_close(jg);
		} else if (quiet) {
			printf("%s\n", c.st.id);
		} else {
			printf("%-12s %-8d %-10s %-40s %-31s %s\n", c.st.id,
			       c.st.status == IGN_STOPPED ? 0 : c.st.pid, ign_status_name(c.st.status),
			       c.st.bundle, c.st.created, "root");
		}
		container_free(&c);
		free(names[i]);
	}
	free(names);
	if (jg) {
		ign_jgen_array_close(jg);
		cleanup_free char *text = ign_jgen_finish(jg);
		ign_jgen_free(jg);
		printf("%s\n", text ? text : "[]");
	}
	return 0;
}
