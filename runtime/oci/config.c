// SPDX-License-Identifier: Apache-2.0
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

#define CONFIG_MAX (4u << 20)

static const char *hook_names[IGN_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *ign_hook_name(enum ign_hook_kind k)
{
	return hook_names[k];
}

/* obj.key as a string; absent is fine unless required. */
static int opt_string(const struct ign_json *obj, const char *key, const char *path, int required,
		      const char **out, struct ign_err *err)
{
	const struct ign_json *v = ign_json_member(obj, key);
	char p[256];

	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	if (!v && !required)
		return 0;
	return ign_json_string(v, p, out, err);
}

static int expect(const struct ign_json *v, enum ign_json_type t, const char *path,
		  struct ign_err *err)
{
	static const char *names[] = { "null", "a boolean", "a number", "a string", "an array",
				       "an object" };
	if (ign_json_type(v) != t)
		return ign_err_setx(err, EINVAL, "%s: expected %s, found %s", path, names[t],
				    names[ign_json_type(v)]);
	return 0;
}

/* An optional array of strings as a NULL-terminated vector (pointers into the tree). */
static int strv(const struct ign_json *arr, const char *path, const char ***out,
		struct ign_err *err)
{
	char p[256];
	int r;

	*out = NULL;
	if (!arr)
		return 0;
	if ((r = expect(arr, IGN_JSON_ARRAY, path, err)) < 0)
		return r;
	size_t n = ign_json_len(arr);
	const char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return ign_err_set(err, ENOMEM, "%s", path);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = ign_json_string(ign_json_index(arr, i), p, &v[i], err)) < 0) {
			free(v);
			return r;
		}
	}
	*out = v;
	return 0;
}

static int check_version(const char *v, struct ign_err *err)
{
	unsigned major, minor;

	if (sscanf(v, "%u.%u.", &major, &minor) == 2 && major == 1 && minor <= 2)
		return 0;
	return ign_err_setx(err, EINVAL, "ociVersion: `%s` is not supported (ign-runtime reads "
			    "1.0.x to 1.2.x)", v);
}

static int parse_process(struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *p = c->process, *v;
	const char **args = NULL, **env = NULL, *cwd, *s;
	int64_t n;
	int r;

	if ((r = expect(p, IGN_JSON_OBJECT, "process", err)) < 0)
		return r;
	if ((r = strv(ign_json_member(p, "args"), "process.args", &args, err)) < 0)
		return r;
	int nargs = args && args[0];
	free(args);
	if (!nargs)
		return ign_err_setx(err, EINVAL, "process.args: missing or empty (nothing to run)");
	if ((r = strv(ign_json_member(p, "env"), "process.env", &env, err)) < 0)
		return r;
	free(env);
	if ((r = opt_string(p, "cwd", "process", 1, &cwd, err)) < 0)
		return r;
	if (cwd[0] != '/')
		return ign_err_setx(err, EINVAL, "process.cwd: `%s` is not an absolute path", cwd);
	if ((v = ign_json_member(p, "terminal")) &&
	    (r = ign_json_bool(v, "process.terminal", &c->terminal, err)) < 0)
		return r;
	if ((v = ign_json_member(p, "user"))) {
		if ((r = expect(v, IGN_JSON_OBJECT, "process.user", err)) < 0)
			return r;
		if ((r = ign_json_int64(ign_json_member(v, "uid"), "process.user.uid", &n, err)) < 0 ||
		    (r = ign_json_int64(ign_json_member(v, "gid"), "process.user.gid", &n, err)) < 0)
			return r;
	}
	if ((v = ign_json_member(p, "consoleSize"))) {
		if ((r = ign_json_int64(ign_json_member(v, "height"), "process.consoleSize.height",
					&n, err)) < 0 ||
		    (r = ign_json_int64(ign_json_member(v, "width"), "process.consoleSize.width",
					&n, err)) < 0)
			return r;
	}
	if ((v = ign_json_member(p, "rlimits"))) {
		char path[64];
		if ((r = expect(v, IGN_JSON_ARRAY, "process.rlimits", err)) < 0)
			return r;
		for (size_t i = 0; i < ign_json_len(v); i++) {
			const struct ign_json *l = ign_json_index(v, i);
			snprintf(path, sizeof(path), "process.rlimits[%zu]", i);
			if ((r = opt_string(l, "type", path, 1, &s, err)) < 0)
				return r;
			snprintf(path, sizeof(path), "process.rlimits[%zu].soft", i);
			if ((r = ign_json_int64(ign_json_member(l, "soft"), path, &n, err)) < 0)
				return r;
			snprintf(path, sizeof(path), "process.rlimits[%zu].hard", i);
			if ((r = ign_json_int64(ign_json_member(l, "hard"), path, &n, err)) < 0)
				return r;
		}
	}
	return 0;
}

static int parse_mounts(struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *arr = ign_json_member(c->root, "mounts");
	char path[64];
	int r;

	if (!arr)
		return 0;
	if ((r = expect(arr, IGN_JSON_ARRAY, "mounts", err)) < 0)
		return r;
	c->mounts = calloc(ign_json_len(arr) + 1, sizeof(*c->mounts));
	if (!c->mounts)
		return ign_err_set(err, ENOMEM, "mounts");
	for (size_t i = 0; i < ign_json_len(arr); i++) {
		const struct ign_json *m = ign_json_index(arr, i);
		struct ign_oci_mount *o = &c->mounts[c->nmounts++];
		snprintf(path, sizeof(path), "mounts[%zu]", i);
		if ((r = expect(m, IGN_JSON_OBJECT, path, err)) < 0)
			return r;
		o->type = o->source = "";
		if ((r = opt_string(m, "destination", path, 1, &o->destination, err)) < 0 ||
		    (r = opt_string(m, "type", path, 0, &o->type, err)) < 0 ||
		    (r = opt_string(m, "source", path, 0, &o->source, err)) < 0)
			return r;
		if (o->destination[0] != '/')
			return ign_err_setx(err, EINVAL, "%s.destination: `%s` is not an absolute path",
					    path, o->destination);
		const char **opts;
		strcat(path, ".options");
		if ((r = strv(ign_json_member(m, "options"), path, &opts, err)) < 0)
			return r;
		free(opts);
		o->options = ign_json_member(m, "options");
	}
	return 0;
}

static int parse_hooks(struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *hooks = ign_json_member(c->root, "hooks");
	char path[96];
	int64_t n;
	int r;

	if (!hooks)
		return 0;
	if ((r = expect(hooks, IGN_JSON_OBJECT, "hooks", err)) < 0)
		return r;
	for (int k = 0; k < IGN_HOOK_KINDS; k++) {
		const struct ign_json *arr = ign_json_member(hooks, hook_names[k]);
		if (!arr)
			continue;
		snprintf(path, sizeof(path), "hooks.%s", hook_names[k]);
		if ((r = expect(arr, IGN_JSON_ARRAY, path, err)) < 0)
			return r;
		c->hooks[k] = calloc(ign_json_len(arr) + 1, sizeof(struct ign_oci_hook));
		if (!c->hooks[k])
			return ign_err_set(err, ENOMEM, "%s", path);
		for (size_t i = 0; i < ign_json_len(arr); i++) {
			const struct ign_json *h = ign_json_index(arr, i), *t;
			struct ign_oci_hook *o = &c->hooks[k][c->nhooks[k]++];
			char p[128];
			snprintf(path, sizeof(path), "hooks.%s[%zu]", hook_names[k], i);
			if ((r = expect(h, IGN_JSON_OBJECT, path, err)) < 0 ||
			    (r = opt_string(h, "path", path, 1, &o->path, err)) < 0)
				return r;
			if (o->path[0] != '/')
				return ign_err_setx(err, EINVAL, "%s.path: `%s` is not an absolute path",
						    path, o->path);
			snprintf(p, sizeof(p), "%s.args", path);
			if ((r = strv(ign_json_member(h, "args"), p, &o->args, err)) < 0)
				return r;
			snprintf(p, sizeof(p), "%s.env", path);
			if ((r = strv(ign_json_member(h, "env"), p, &o->env, err)) < 0)
				return r;
			if ((t = ign_json_member(h, "timeout"))) {
				snprintf(p, sizeof(p), "%s.timeout", path);
				if ((r = ign_json_int64(t, p, &n, err)) < 0)
					return r;
				if (n <= 0 || n > INT_MAX)
					return ign_err_setx(err, EINVAL, "%s: must be a positive number "
							    "of seconds", p);
				o->timeout = (int)n;
			}
		}
	}
	return 0;
}

/* A positive integer annotation, e.g. "io.ign.vcpus": "2". */
static int annotation_uint(const struct ign_oci_config *c, const char *key, uint64_t max,
			   uint64_t *out, struct ign_err *err)
{
	const char *v = ign_oci_annotation(c, key);
	char *end;

	if (!v)
		return 0;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *end || n == 0 || n > max)
		return ign_err_setx(err, EINVAL, "annotations[\"%s\"]: `%s` is not a number from 1 "
				    "to %" PRIu64, key, v, max);
	*out = n;
	return 1;
}

static int parse_linux(struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *lx = ign_json_member(c->root, "linux"), *v;
	int64_t limit = 0, quota = 0, period = 100000;
	uint64_t n;
	int r;

	c->vcpus = 1;
	c->mem_mib = IGN_OCI_DEFAULT_MEM_MIB;
	if (lx && (r = expect(lx, IGN_JSON_OBJECT, "linux", err)) < 0)
		return r;
	if ((v = ign_json_member(lx, "namespaces"))) {
		char path[64];
		if ((r = expect(v, IGN_JSON_ARRAY, "linux.namespaces", err)) < 0)
			return r;
		for (size_t i = 0; i < ign_json_len(v); i++) {
			const struct ign_json *ns = ign_json_index(v, i);
			const char *type, *p = NULL;
			snprintf(path, sizeof(path), "linux.namespaces[%zu]", i);
			if ((r = opt_string(ns, "type", path, 1, &type, err)) < 0 ||
			    (r = opt_string(ns, "path", path, 0, &p, err)) < 0)
				return r;
			if (!strcmp(type, "network") && p && p[0])
				c->netns = p;
		}
	}
	const struct ign_json *res = ign_json_member(lx, "resources");
	const struct ign_json *mem = ign_json_member(res, "memory");
	const struct ign_json *cpu = ign_json_member(res, "cpu");
	if ((v = ign_json_member(mem, "limit")) &&
	    (r = ign_json_int64(v, "linux.resources.memory.limit", &limit, err)) < 0)
		return r;
	if ((v = ign_json_member(cpu, "quota")) &&
	    (r = ign_json_int64(v, "linux.resources.cpu.quota", &quota, err)) < 0)
		return r;
	if ((v = ign_json_member(cpu, "period")) &&
	    (r = ign_json_int64(v, "linux.resources.cpu.period", &period, err)) < 0)
		return r;
	if (limit > 0) {
		c->mem_mib = ((uint64_t)limit + (1 << 20) - 1) >> 20;
		if (c->mem_mib < IGN_OCI_MIN_MEM_MIB)
			return ign_err_setx(err, EINVAL, "linux.resources.memory.limit: %" PRId64
					    " bytes is below the %d MiB a VM needs", limit,
					    IGN_OCI_MIN_MEM_MIB);
	}
	if (quota > 0 && period > 0) {
		uint64_t want = ((uint64_t)quota + period - 1) / period;
		c->vcpus = want > IGN_OCI_MAX_VCPUS ? IGN_OCI_MAX_VCPUS : (unsigned)want;
	}
	if ((r = annotation_uint(c, "io.ign.vcpus", IGN_OCI_MAX_VCPUS, &n, err)) < 0)
		return r;
	if (r)
		c->vcpus = (unsigned)n;
	if ((r = annotation_uint(c, "io.ign.memory_mib", 1024 * 1024, &n, err)) < 0)
		return r;
	if (r) {
		if (n < IGN_OCI_MIN_MEM_MIB)
			return ign_err_setx(err, EINVAL, "annotations[\"io.ign.memory_mib\"]: %" PRIu64
					    " is below the %d MiB a VM needs", n,
					    IGN_OCI_MIN_MEM_MIB);
		c->mem_mib = n;
	}
	return 0;
}

static int parse_vm(struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *vm = ign_json_member(c->root, "vm"), *k;
	int r;

	if (!vm)
		return 0;
	if ((r = expect(vm, IGN_JSON_OBJECT, "vm", err)) < 0)
		return r;
	k = ign_json_member(vm, "kernel");
	if ((r = expect(k, IGN_JSON_OBJECT, "vm.kernel", err)) < 0 ||
	    (r = opt_string(k, "path", "vm.kernel", 1, &c->vm_kernel, err)) < 0 ||
	    (r = opt_string(k, "initrd", "vm.kernel", 0, &c->vm_initrd, err)) < 0)
		return r;
	const char **params;
	if ((r = strv(ign_json_member(k, "parameters"), "vm.kernel.parameters", &params, err)) < 0)
		return r;
	if (params && params[0])
		return free(params), ign_err_setx(err, ENOTSUP, "vm.kernel.parameters: extra kernel "
						  "parameters are not supported yet");
	free(params);
	return 0;
}

int ign_oci_parse(const char *text, struct ign_oci_config *c, struct ign_err *err)
{
	const struct ign_json *root;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = ign_json_parse(text, &c->root, err)) < 0)
		return r;
	if ((r = expect(c->root, IGN_JSON_OBJECT, "(top level)", err)) < 0)
		return r;
	if ((r = opt_string(c->root, "ociVersion", "", 1, &c->oci_version, err)) < 0 ||
	    (r = check_version(c->oci_version, err)) < 0)
		return r;
	root = ign_json_member(c->root, "root");
	if ((r = expect(root, IGN_JSON_OBJECT, "root", err)) < 0 ||
	    (r = opt_string(root, "path", "root", 1, &c->rootfs, err)) < 0)
		return r;
	if (ign_json_member(root, "readonly") &&
	    (r = ign_json_bool(ign_json_member(root, "readonly"), "root.readonly",
			       &c->rootfs_readonly, err)) < 0)
		return r;
	if ((c->annotations = ign_json_member(c->root, "annotations")) &&
	    (r = expect(c->annotations, IGN_JSON_OBJECT, "annotations", err)) < 0)
		return r;
	for (size_t i = 0; i < ign_json_len(c->annotations); i++) {
		char p[300];
		const char *s;
		snprintf(p, sizeof(p), "annotations[\"%.256s\"]", ign_json_key_at(c->annotations, i));
		if ((r = ign_json_string(ign_json_index(c->annotations, i), p, &s, err)) < 0)
			return r;
	}
	c->process = ign_json_member(c->root, "process");
	if ((r = parse_process(c, err)) < 0 ||
	    (r = opt_string(c->root, "hostname", "", 0, &c->hostname, err)) < 0 ||
	    (r = parse_mounts(c, err)) < 0 || (r = parse_hooks(c, err)) < 0 ||
	    (r = parse_linux(c, err)) < 0 || (r = parse_vm(c, err)) < 0)
		return r;
	return 0;
}

int ign_oci_load(const char *bundle, struct ign_oci_config *c, struct ign_err *err)
{
	char path[PATH_MAX];
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if ((r = ign_read_file(path, CONFIG_MAX, &text, &len, err)) < 0)
		return ign_err_wrap(err, "bundle `%s`", bundle);
	if (strlen(text) != len)
		return ign_err_setx(err, EINVAL, "%s: contains a NUL byte", path);
	if ((r = ign_oci_parse(text, c, err)) < 0)
		return ign_err_wrap(err, "%s", path);
	return 0;
}

void ign_oci_free(struct ign_oci_config *c)
{
	for (int k = 0; k < IGN_HOOK_KINDS; k++) {
		for (unsigned i = 0; i < c->nhooks[k]; i++) {
			free(c->hooks[k][i].args);
			free(c->hooks[k][i].env);
		}
		free(c->hooks[k]);
	}
	free(c->mounts);
	if (c->root)
		ign_json_free(c->root);
	memset(c, 0, sizeof(*c));
}

const char *ign_oci_annotation(const struct ign_oci_config *c, const char *key)
{
	const struct ign_json *v = ign_json_member(c->annotations, key);

	return ign_json_type(v) == IGN_JSON_STRING && ign_json_string(v, key, &key, NULL) == 0 ?
	       key : NULL;
}
