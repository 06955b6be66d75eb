// SPDX-License-Identifier: Apache-2.0
/*
 * ign-mkimage: a directory becomes a read-only root image in the cache (or
 * is found there); prints the image's path.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "rootimg.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ign-mkimage [--fs erofs|ext4] [--cache DIR] ROOTFS\n"
		"Make (or find in the cache) a read-only root image of directory ROOTFS and\n"
		"print its path. An unchanged tree is not rebuilt (docs/images.md).\n"
		"\n"
		"  -t, --fs TYPE    erofs (default) or ext4\n"
		"  -c, --cache DIR  image cache (default $XDG_CACHE_HOME/ign-runtime/images,\n"
		"                   or ~/.cache/ign-runtime/images)\n"
		"  -q, --quiet      no progress line\n"
		"  -h, --help       this help\n");
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "fs", required_argument, NULL, 't' }, { "cache", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct ign_rootimg o = { .fs = IGN_FS_EROFS, .progress_fd = STDERR_FILENO };
	cleanup_free char *cache = NULL, *path = NULL;
	struct ign_err err = { 0 };
	int c, cached;

	while ((c = getopt_long(argc, argv, "t:c:qh", longs, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "erofs") || !strcmp(optarg, "ext4")) {
				o.fs = optarg[0] == 'e' && optarg[1] == 'x' ? IGN_FS_EXT4 : IGN_FS_EROFS;
				break;
			}
			fprintf(stderr, "ign-mkimage: --fs `%s`: erofs or ext4\n", optarg);
			return 1;
		case 'c': o.cache_dir = optarg; break;
		case 'q': o.progress_fd = -1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	o.rootfs = argv[optind];
	if (!o.cache_dir) {
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
		if ((xdg && *xdg && asprintf(&cache, "%s/ign-runtime/images", xdg) < 0) ||
		    (!(xdg && *xdg) && asprintf(&cache, "%s/.cache/ign-runtime/images",
						home ? home : "/root") < 0))
			return 1;
		o.cache_dir = cache;
	}
	if (ign_rootimg_get(&o, &path, &cached, &err) < 0) {
		fprintf(stderr, "ign-mkimage: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", path);
	return 0;
}
