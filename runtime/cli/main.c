// SPDX-License-Identifier: Apache-2.0
/*
 * ign-runtime: a runc-compatible OCI runtime whose containers are KVM
 * microVMs (docs/runtime.md). Global flags come before the command, as with
 * runc: ign-runtime [--root DIR] [--log F] [--log-format text|json] [--debug]
 * [--systemd-cgroup] COMMAND ...
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ign/log.h"

#define EXIT_FAILURE_RUNTIME 1
#define EXEC_FAILED 255

static const struct {
	const char *name;
	int (*fn)(struct globals *, int, char **, struct ign_err *);
	const char *help;
} commands[] = {
	{ "create", cmd_create, "create a container (its VM boots; the process waits)" },
	{ "start", cmd_start, "start the process of a created container" },
	{ "state", cmd_state, "print a container's state as JSON" },
	{ "kill", cmd_kill, "send a signal to the container's process ([--all] ID [SIGNAL])" },
	{ "delete", cmd_delete, "delete a container ([--force] ID)" },
	{ "run", cmd_run, "create and start a container, wait for it" },
	{ "exec", cmd_exec, "run one more process in a running container" },
	{ "list", cmd_list, "list containers ([--format table|json] [--quiet])" },
	{ "spec", cmd_spec, "write a default config.json ([--bundle DIR])" },
	{ "features", cmd_features, "print the features document" },
	{ "bases", cmd_bases, "list warm bases, or drop them (drop NAME...|--all)" },
	{ "reset", cmd_reset, "roll a container's VM back to its warm base; the process starts anew" },
	{ "ports", cmd_ports, "the 127.0.0.1 ports a container's published guest ports are on" },
	{ "checkpoint", cmd_checkpoint, "not supported (docs/warm-bases.md): use reset" },
	{ "restore", cmd_checkpoint, "not supported (docs/warm-bases.md)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ign-runtime [global options] COMMAND [options] ...\n\n"
		   "Runs OCI bundles as KVM microVMs, with runc's command line.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR          state directory (default /run/ign-runtime, or\n"
		   "                      $XDG_RUNTIME_DIR/ign-runtime when that is set)\n"
		   "  --log FILE          write messages to FILE (appended)\n"
		   "  --log-format FMT    text (default) or json ({\"level\",\"msg\",\"time\"})\n"
		   "  --debug             debug messages\n"
		   "  --systemd-cgroup    accepted for compatibility (no cgroups are used)\n"
		   "  -v, --version       print the version\n"
		   "See docs/runtime.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "root", required_argument, NULL, 'r' }, { "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "cgroup-manager", required_argument, NULL, 'c' },
		{ "rootless", required_argument, NULL, 'R' }, { "criu", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct globals g = { 0 };
	struct ign_err err = { 0 };
	char root[4096];
	FILE *log = NULL;
	int c, r;

	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && xdg[0]) {
		snprintf(root, sizeof(root), "%s/ign-runtime", xdg);
		g.root = root;
	} else {
		g.root = "/run/ign-runtime";
	}
	while ((c = getopt_long(argc, argv, "+vh", longs, NULL)) != -1) {
		switch (c) {
		case 'r': g.root = optarg; break;
		case 'l': g.log = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "ign-runtime: --log-format: text or json\n");
				return EXIT_FAILURE_RUNTIME;
			}
			g.log_json = !strcmp(optarg, "json");
			break;
		case 'd': g.debug = 1; break;
		case 's': g.systemd_cgroup = 1; break;
		case 'c': case 'R': case 'C': break;
		case 'v':
			printf("ign-runtime version %s\nspec: 1.2.0\n", IGN_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_FAILURE_RUNTIME;
		}
	}
	if (g.log && !(log = fopen(g.log, "ae"))) {
		fprintf(stderr, "ign-runtime: --log `%s`: %s\n", g.log, strerror(errno));
		return EXIT_FAILURE_RUNTIME;
	}
	ign_log_init("ign-runtime", log, g.log_json ? IGN_LOG_JSON : IGN_LOG_TEXT,
		     g.debug ? IGN_LOG_DEBUG : IGN_LOG_WARN);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_FAILURE_RUNTIME;
	}
	const char *cmd = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;
		optind = 1;
		log_debug("%s", cmd);
		r = commands[i].fn(&g, sub_argc, sub_argv, &err);
		if (r >= 0)
			return r;
		/* One line, in the log (JSON there when asked) and on stderr. */
		if (log)
			log_err("%s", err.msg);
		fprintf(stderr, "ign-runtime: %s\n", err.msg);
		return strcmp(cmd, "exec") ? EXIT_FAILURE_RUNTIME : EXEC_FAILED;
	}
	fprintf(stderr, "ign-runtime: no command `%s` (see --help)\n", cmd);
	return EXIT_FAILURE_RUNTIME;
}
