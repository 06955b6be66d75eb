// SPDX-License-Identifier: Apache-2.0
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct {
	const char *name;
	unsigned long set, clear;
	int propagation;
} mount_opts[] = {
	{ "ro", MS_RDONLY, 0, 0 }, { "rw", 0, MS_RDONLY, 0 },
	{ "nosuid", MS_NOSUID, 0, 0 }, { "suid", 0, MS_NOSUID, 0 },
	{ "nodev", MS_NODEV, 0, 0 }, { "dev", 0, MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 0, 0 }, { "exec", 0, MS_NOEXEC, 0 },
	{ "sync", MS_SYNCHRONOUS, 0, 0 }, { "async", 0, MS_SYNCHRONOUS, 0 },
	{ "dirsync", MS_DIRSYNC, 0, 0 }, { "remount", MS_REMOUNT, 0, 0 },
	{ "mand", MS_MANDLOCK, 0, 0 }, { "nomand", 0, MS_MANDLOCK, 0 },
	{ "atime", 0, MS_NOATIME, 0 }, { "noatime", MS_NOATIME, 0, 0 },
	{ "diratime", 0, MS_NODIRATIME, 0 }, { "nodiratime", MS_NODIRATIME, 0, 0 },
	{ "relatime", MS_RELATIME, 0, 0 }, { "norelatime", 0, MS_RELATIME, 0 },
	{ "strictatime", MS_STRICTATIME, 0, 0 }, { "nostrictatime", 0, MS_STRICTATIME, 0 },
	{ "bind", MS_BIND, 0, 0 }, { "rbind", MS_BIND | MS_REC, 0, 0 },
	{ "private", MS_PRIVATE, 0, 1 }, { "rprivate", MS_PRIVATE | MS_REC, 0, 1 },
	{ "shared", MS_SHARED, 0, 1 }, { "rshared", MS_SHARED | MS_REC, 0, 1 },
	{ "slave", MS_SLAVE, 0, 1 }, { "rslave", MS_SLAVE | MS_REC, 0, 1 },
	{ "unbindable", MS_UNBINDABLE, 0, 1 }, { "runbindable", MS_UNBINDABLE | MS_REC, 0, 1 },
};

static int get_string(const struct ign_json *obj, const char *key, const char *path,
		      const char **out, struct ign_err *err)
{
	char p[128];

	snprintf(p, sizeof(p), "%s.%s", path, key);
	return ign_json_string(ign_json_member(obj, key), p, out, err);
}

/* An optional unsigned member that fits in max; absent leaves *out alone. */
static int get_uint(const struct ign_json *obj, const char *key, const char *path,
		    uint64_t max, uint64_t *out, struct ign_err *err)
{
	const struct ign_json *n = ign_json_member(obj, key);
	int64_t v;
	int r;

	if (!n)
		return 0;
	if ((r = ign_json_int64(n, key, &v, err)) < 0)
		return ign_err_wrap(err, "%s", path);
	if (v < 0 || (uint64_t)v > max)
		return ign_err_setx(err, ERANGE, "%s.%s: %lld is out of range 0..%llu", path, key,
				    (long long)v, (unsigned long long)max);
	*out = v;
	return 0;
}

/* A NULL-terminated array of the strings of a JSON array (may be absent). */
static int get_strv(const struct ign_json *arr, const char *path, int required,
		    const char ***out, struct ign_err *err)
{
	size_t n = arr ? ign_json_len(arr) : 0;

	if (arr && ign_json_type(arr) != IGN_JSON_ARRAY)
		return ign_err_setx(err, EINVAL, "%s: expected an array", path);
	if (required && !n)
		return ign_err_setx(err, EINVAL, "%s: must name at least one string", path);
	const char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return ign_err_set(err, ENOMEM, "%s", path);
	for (size_t i = 0; i < n; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		int r = ign_json_string(ign_json_index(arr, i), p, &v[i], err);
		if (r < 0) {
			free(v);
			return r;
		}
	}
	*out = v;
	return 0;
}

int spec_mount_options(const struct ign_json *opts, const char *path, struct spec_mount *m,
		       struct ign_err *err)
{
	size_t n = opts ? ign_json_len(opts) : 0, used = 0, cap = 1;

	if (opts && ign_json_type(opts) != IGN_JSON_ARRAY)
		return ign_err_setx(err, EINVAL, "%s: expected an array", path);
	for (size_t i = 0; i < n; i++) {
		const char *o;
		int r = ign_json_string(ign_json_index(opts, i), path, &o, err);
		if (r < 0)
			return r;
		cap += strlen(o) + 1;
	}
	m->data = calloc(1, cap);
	if (!m->data)
		return ign_err_set(err, ENOMEM, "%s", path);
	for (size_t i = 0; i < n; i++) {
		const char *o;
		ign_json_string(ign_json_index(opts, i), path, &o, NULL);
		size_t k;
		for (k = 0; k < sizeof(mount_opts) / sizeof(mount_opts[0]); k++)
			if (!strcmp(o, mount_opts[k].name))
				break;
		if (k == sizeof(mount_opts) / sizeof(mount_opts[0])) {
			used += sprintf(m->data + used, "%s%s", used ? "," : "", o);
			continue;
		}
		if (mount_opts[k].propagation) {
			m->propagation = mount_opts[k].set;
			continue;
		}
		m->flags = (m->flags & ~mount_opts[k].clear) | mount_opts[k].set;
	}
	return 0;
}

static int parse_user(const struct ign_json *user, struct spec *s, struct ign_err *err)
{
	uint64_t v;
	int r;

	if (!user)
		return 0;
	v = 0;
	if ((r = get_uint(user, "uid", "process.user", UINT32_MAX - 1, &v, err)) < 0)
		return r;
	s->uid = v;
	v = 0;
	if ((r = get_uint(user, "gid", "process.user", UINT32_MAX - 1, &v, err)) < 0)
		return r;
	s->gid = v;
	const struct ign_json *g = ign_json_member(user, "additionalGids");
	if (!g)
		return 0;
	if (ign_json_type(g) != IGN_JSON_ARRAY || ign_json_len(g) > SPEC_MAX_GIDS)
		return ign_err_setx(err, EINVAL, "process.user.additionalGids: expected an array "
				    "of at most %d gids", SPEC_MAX_GIDS);
	for (size_t i = 0; i < ign_json_len(g); i++) {
		int64_t gid;
		if ((r = ign_json_int64(ign_json_index(g, i), "process.user.additionalGids", &gid,
					err)) < 0)
			return r;
		if (gid < 0 || gid >= UINT32_MAX)
			return ign_err_setx(err, ERANGE, "process.user.additionalGids: %lld is out "
					    "of range", (long long)gid);
		s->gids[s->ngids++] = gid;
	}
	return 0;
}

static int parse_rlimits(const struct ign_json *arr, struct spec *s, struct ign_err *err)
{
	if (!arr)
		return 0;
	if (ign_json_type(arr) != IGN_JSON_ARRAY || ign_json_len(arr) > SPEC_MAX_RLIMITS)
		return ign_err_setx(err, EINVAL, "process.rlimits: expected an array of at most "
				    "%d limits", SPEC_MAX_RLIMITS);
	for (size_t i = 0; i < ign_json_len(arr); i++) {
		const struct ign_json *l = ign_json_index(arr, i);
		const char *type;
		uint64_t soft = 0, hard = 0;
		char path[64];
		int r;

		snprintf(path, sizeof(path), "process.rlimits[%zu]", i);
		if ((r = get_string(l, "type", path, &type, err)) < 0 ||
		    (r = get_uint(l, "soft", path, UINT64_MAX >> 1, &soft, err)) < 0 ||
		    (r = get_uint(l, "hard", path, UINT64_MAX >> 1, &hard, err)) < 0)
			return r;
		size_t k;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (!strcmp(type, rlimit_names[k].name))
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return ign_err_setx(err, EINVAL, "%s.type: unknown limit `%s`", path, type);
		s->rlimits[s->nrlimits++] = (struct spec_rlimit){
			rlimit_names[k].resource, { soft, hard } };
	}
	return 0;
}

static int parse_mounts(const struct ign_json *arr, struct spec *s, struct ign_err *err)
{
	if (!arr)
		return 0;
	if (ign_json_type(arr) != IGN_JSON_ARRAY || ign_json_len(arr) > SPEC_MAX_MOUNTS)
		return ign_err_setx(err, EINVAL, "mounts: expected an array of at most %d mounts",
				    SPEC_MAX_MOUNTS);
	for (size_t i = 0; i < ign_json_len(arr); i++) {
		const struct ign_json *j = ign_json_index(arr, i);
		struct spec_mount *m = &s->mounts[s->nmounts++];
		char path[64];
		int r;

		snprintf(path, sizeof(path), "mounts[%zu]", i);
		m->type = m->source = "none";
		if ((r = get_string(j, "destination", path, &m->destination, err)) < 0)
			return r;
		if (m->destination[0] != '/')
			return ign_err_setx(err, EINVAL, "%s.destination: `%s` is not absolute", path,
					    m->destination);
		if ((ign_json_member(j, "type") &&
		     (r = get_string(j, "type", path, &m->type, err)) < 0) ||
		    (ign_json_member(j, "source") &&
		     (r = get_string(j, "source", path, &m->source, err)) < 0))
			return r;
		if (!strcmp(m->type, "ign-file")) {
			uint64_t mode = 0644;
			if ((r = get_string(j, "data", path, &m->file_data, err)) < 0 ||
			    (ign_json_member(j, "mode") &&
			     (r = get_uint(j, "mode", path, 07777, &mode, err)) < 0))
				return r;
			m->file_mode = (unsigned)mode;
		}
		strcat(path, ".options");
		if ((r = spec_mount_options(ign_json_member(j, "options"), path, m, err)) < 0)
			return r;
	}
	return 0;
}

static int parse_network(const struct ign_json *n, struct spec_net *net, struct ign_err *err)
{
	const struct ign_json *addrs = ign_json_member(n, "addresses");
	uint64_t mtu = 0;
	int r;

	if (!n)
		return 0;
	if (ign_json_type(n) != IGN_JSON_OBJECT)
		return ign_err_setx(err, EINVAL, "network: expected an object");
	net->present = 1;
	if (addrs && (ign_json_type(addrs) != IGN_JSON_ARRAY || ign_json_len(addrs) > 1))
		return ign_err_setx(err, EINVAL, "network.addresses: expected an array of at most "
				    "one IPv4 address");
	if (ign_json_len(addrs) &&
	    (r = ign_json_string(ign_json_index(addrs, 0), "network.addresses[0]", &net->address,
				 err)) < 0)
		return r;
	if (ign_json_member(n, "gateway") &&
	    (r = get_string(n, "gateway", "network", &net->gateway, err)) < 0)
		return r;
	if (ign_json_member(n, "mtu") && (r = get_uint(n, "mtu", "network", 65535, &mtu, err)) < 0)
		return r;
	net->mtu = (unsigned)mtu;
	if (ign_json_member(n, "mac")) {
		const char *mac;
		unsigned b[6];
		char end;
		if ((r = get_string(n, "mac", "network", &mac, err)) < 0)
			return r;
		if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
			   &b[5], &end) != 6)
			return ign_err_setx(err, EINVAL, "network.mac: `%s` is not a MAC address", mac);
		for (int i = 0; i < 6; i++)
			net->mac[i] = (uint8_t)b[i];
		net->has_mac = 1;
	}
	return 0;
}

int spec_parse(struct ign_json *msg, struct spec **out, struct ign_err *err)
{
	struct spec *s = calloc(1, sizeof(*s));
	uint64_t v;
	int r;

	if (!s) {
		ign_json_free(msg);
		return ign_err_set(err, ENOMEM, "spawn");
	}
	s->msg = msg;
	s->cwd = "/";
	const struct ign_json *p = ign_json_member(msg, "process");
	if (ign_json_type(p) != IGN_JSON_OBJECT) {
		r = ign_err_setx(err, EINVAL, "process: missing or not an object");
		goto fail;
	}
	if ((r = get_strv(ign_json_member(p, "args"), "process.args", 1, &s->argv, err)) < 0 ||
	    (r = get_strv(ign_json_member(p, "env"), "process.env", 0, &s->envp, err)) < 0 ||
	    (ign_json_member(p, "cwd") && (r = get_string(p, "cwd", "process", &s->cwd, err)) < 0) ||
	    (r = parse_user(ign_json_member(p, "user"), s, err)) < 0 ||
	    (r = parse_rlimits(ign_json_member(p, "rlimits"), s, err)) < 0 ||
	    (r = parse_mounts(ign_json_member(msg, "mounts"), s, err)) < 0 ||
	    (r = parse_network(ign_json_member(msg, "network"), &s->net, err)) < 0)
		goto fail;
	if (s->cwd[0] != '/') {
		r = ign_err_setx(err, EINVAL, "process.cwd: `%s` is not absolute", s->cwd);
		goto fail;
	}
	if (ign_json_member(p, "terminal") &&
	    (r = ign_json_bool(ign_json_member(p, "terminal"), "process.terminal", &s->terminal,
			       err)) < 0)
		goto fail;
	const struct ign_json *size = ign_json_member(p, "consoleSize");
	if (size) {
		v = 0;
		if ((r = get_uint(size, "height", "process.consoleSize", 0xffff, &v, err)) < 0)
			goto fail;
		s->rows = v;
		v = 0;
		if ((r = get_uint(size, "width", "process.consoleSize", 0xffff, &v, err)) < 0)
			goto fail;
		s->cols = v;
	}
	if (ign_json_member(msg, "hostname") &&
	    (r = get_string(msg, "hostname", "spawn", &s->hostname, err)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	spec_free(s);
	return r;
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nmounts; i++)
		free(s->mounts[i].data);
	free(s->argv);
	free(s->envp);
	ign_json_free(s->msg);
	free(s);
}
