// SPDX-License-Identifier: Apache-2.0
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

static int has_option(const struct ign_json *opts, const char *want)
{
	for (size_t i = 0; i < ign_json_len(opts); i++) {
		const char *s;
		if (ign_json_string(ign_json_index(opts, i), "", &s, NULL) == 0 && !strcmp(s, want))
			return 1;
	}
	return 0;
}

static void options(struct ign_jgen *g, const struct ign_json *opts)
{
	ign_jgen_string(g, "options");
	if (opts)
		ign_jgen_node(g, opts);
	else
		ign_jgen_array_open(g), ign_jgen_array_close(g);
}

static void simple(struct ign_jgen *g, const char *type, const char *source, const char *dst,
		   const struct ign_json *opts)
{
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, type);
	ign_jgen_string(g, "source"), ign_jgen_string(g, source);
	ign_jgen_string(g, "destination"), ign_jgen_string(g, dst);
	options(g, opts);
	ign_jgen_map_close(g);
}

static int file(struct ign_jgen *g, unsigned i, const struct ign_oci_mount *m,
		const struct stat *st, struct ign_err *err)
{
	cleanup_free char *data = NULL;
	size_t len;
	int r;

	if ((r = ign_read_file(m->source, IGN_FILE_MAX, &data, &len, err)) < 0)
		return ign_err_wrap(err, "mounts[%u] (%s)", i, m->destination);
	if (strlen(data) != len)
		return ign_err_setx(err, ENOTSUP, "mounts[%u]: `%s` on `%s`: binary files cannot be "
				    "carried into the VM yet (only text up to %d KiB)", i, m->source,
				    m->destination, IGN_FILE_MAX / 1024);
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, "ign-file");
	ign_jgen_string(g, "destination"), ign_jgen_string(g, m->destination);
	ign_jgen_string(g, "mode"), ign_jgen_int(g, st->st_mode & 07777);
	ign_jgen_string(g, "data"), ign_jgen_string(g, data);
	options(g, m->options);
	ign_jgen_map_close(g);
	return 0;
}

/* Volume options the guest honours on a 9p mount; the rest (rbind, rprivate...) are the host's. */
static const char *const volume_opts[] = { "ro", "nosuid", "nodev", "noexec", "relatime",
					   "noatime", "sync", "dirsync" };

const char *ign_volume_tag(unsigned i)
{
	static const char *const tags[] = {
		"vol0", "vol1", "vol2", "vol3", "vol4", "vol5", "vol6", "vol7",
	};
	_Static_assert(sizeof(tags) / sizeof(tags[0]) == IGN_VM_MAX_SHARES, "a tag per share");

	return tags[i];
}

static int volume(struct ign_jgen *g, unsigned i, const struct ign_oci_mount *m,
		  struct ign_volumes *vols, struct ign_err *err)
{
	unsigned n = vols->nshares;

	if (n == IGN_VM_MAX_SHARES)
		return ign_err_setx(err, ENOSPC, "mounts[%u] (%s): at most %d directory mounts", i,
				    m->destination, IGN_VM_MAX_SHARES);
	vols->shares[n] = (struct ign_vm_share){ .tag = ign_volume_tag(n), .path = m->source,
						 .readonly = has_option(m->options, "ro") };
	vols->nshares++;
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, "9p");
	ign_jgen_string(g, "source"), ign_jgen_string(g, ign_volume_tag(n));
	ign_jgen_string(g, "destination"), ign_jgen_string(g, m->destination);
	ign_jgen_string(g, "options");
	ign_jgen_array_open(g);
	ign_jgen_string(g, IGN_9P_OPTIONS);
	for (size_t k = 0; k < sizeof(volume_opts) / sizeof(volume_opts[0]); k++)
		if (has_option(m->options, volume_opts[k]))
			ign_jgen_string(g, volume_opts[k]);
	ign_jgen_array_close(g);
	ign_jgen_map_close(g);
	return 0;
}

int ign_mount_is_bind(const struct ign_oci_mount *m)
{
	return !strcmp(m->type, "bind") || has_option(m->options, "bind") ||
	       has_option(m->options, "rbind");
}

int ign_mounts_translate(const struct ign_oci_config *cfg, struct ign_jgen *g,
			 struct ign_volumes *vols, struct ign_err *err)
{
	memset(vols, 0, sizeof(*vols));
	ign_jgen_array_open(g);
	for (unsigned i = 0; i < cfg->nmounts; i++) {
		const struct ign_oci_mount *m = &cfg->mounts[i];
		struct stat st;
		int r;

		if (!ign_mount_is_bind(m)) {
			const char *type = !strcmp(m->type, "cgroup") ? "cgroup2" : m->type;
			simple(g, type, m->source[0] ? m->source : type, m->destination, m->options);
			continue;
		}
		if (!strcmp(m->destination, "/dev/shm")) {
			simple(g, "tmpfs", "shm", "/dev/shm", NULL);
			continue;
		}
		if (stat(m->source, &st) < 0)
			return ign_err_set(err, errno, "mounts[%u]: bind source `%s` of `%s`", i,
					   m->source, m->destination);
		if (S_ISREG(st.st_mode)) {
			if ((r = file(g, i, m, &st, err)) < 0)
				return r;
		} else if (S_ISDIR(st.st_mode)) {
			if ((r = volume(g, i, m, vols, err)) < 0)
				return r;
		} else {
			return ign_err_setx(err, ENOTSUP, "mounts[%u]: `%s` on `%s` is not a regular "
					    "file or a directory; devices and sockets cannot be "
					    "passed into the VM", i, m->source, m->destination);
		}
	}
	ign_jgen_array_close(g);
	return 0;
}
