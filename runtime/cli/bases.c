// SPDX-License-Identifier: Apache-2.0
/*
 * `ign-runtime bases`: the warm bases under the state root (docs/warm-bases.md).
 *   bases [--format table|json]   list them
 *   bases drop NAME... | --all    drop them; the next create of the profile builds anew
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "cli.h"
#include "ign/cleanup.h"
#include "ign/json.h"

static void print_json(const struct ign_base_info *b, unsigned n)
{
	struct ign_jgen *g = ign_jgen_new();

	ign_jgen_array_open(g);
	for (unsigned i = 0; i < n; i++) {
		ign_jgen_map_open(g);
		ign_jgen_string(g, "name"), ign_jgen_string(g, b[i].name);
		ign_jgen_string(g, "vcpus"), ign_jgen_int(g, b[i].vcpus);
		ign_jgen_string(g, "memory_mib"), ign_jgen_int(g, (long long)b[i].mem_mib);
		ign_jgen_string(g, "disk_bytes"), ign_jgen_int(g, (long long)b[i].disk_bytes);
		ign_jgen_string(g, "created"), ign_jgen_int(g, b[i].created);
		ign_jgen_string(g, "kernel"), ign_jgen_string(g, b[i].kernel);
		ign_jgen_string(g, "initrd"), ign_jgen_string(g, b[i].initrd);
		ign_jgen_map_close(g);
	}
	ign_jgen_array_close(g);
	cleanup_free char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	printf("%s\n", text ? text : "[]");
}

static void print_table(const struct ign_base_info *b, unsigned n)
{
	printf("%-32s %-5s %-8s %-9s %-20s %s\n", "NAME", "VCPUS", "MEMORY", "ON DISK", "CREATED",
	       "KERNEL");
	for (unsigned i = 0; i < n; i++) {
		char when[32] = "-";
		time_t t = (time_t)b[i].created;
		struct tm tm;
		if (t && gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		char mem[24], disk[24];
		snprintf(mem, sizeof(mem), "%" PRIu64 "M", b[i].mem_mib);
		snprintf(disk, sizeof(disk), "%.1fM", b[i].disk_bytes / 1048576.0);
		printf("%-32s %-5u %-8s %-9s %-20s %s\n", b[i].name, b[i].vcpus, mem, disk, when,
		       b[i].kernel);
	}
}

int cmd_bases(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "format", required_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' }, { 0 },
	};
	char dir[PATH_MAX];
	int json = 0, all = 0, opt, r;

	snprintf(dir, sizeof(dir), "%s/" IGN_BASES_DIR, g->root);
	while ((opt = getopt_long(argc, argv, "+f:", longs, NULL)) != -1) {
		if (opt == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
			json = !strcmp(optarg, "json");
		else if (opt != 'a')
			return ign_err_setx(err, EINVAL, "bases: [--format table|json] | drop NAME... "
					    "| drop --all");
	}
	if (optind < argc && !strcmp(argv[optind], "drop")) {
		optind++;
		while ((opt = getopt_long(argc, argv, "+a", longs, NULL)) != -1)
			if (opt == 'a')
				all = 1;
		if (all == (optind < argc))
			return ign_err_setx(err, EINVAL, "bases drop: NAME... or --all");
		struct ign_base_info *list = NULL;
		unsigned n = 0;
		if (all && (r = ign_base_list(dir, &list, &n, err)) < 0)
			return r;
		for (unsigned i = 0; all && i < n; i++)  /* an application base may be gone with its profile's */
			if ((r = ign_base_drop(dir, list[i].name, err)) < 0 && r != -ENOENT)
				break;
		free(list);
		if (all)
			return r < 0 ? r : 0;
		for (; optind < argc; optind++)
			if ((r = ign_base_drop(dir, argv[optind], err)) < 0)
				return r;
		return 0;
	}
	if (optind < argc)
		return ign_err_setx(err, EINVAL, "bases: unknown subcommand `%s` (drop)", argv[optind]);
	struct ign_base_info *list = NULL;
	unsigned n = 0;
	if ((r = ign_base_list(dir, &list, &n, err)) < 0)
		return r;
	if (json)
		print_json(list, n);
	else
		print_table(list, n);
	free(list);
	return 0;
}
