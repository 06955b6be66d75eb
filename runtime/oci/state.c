// SPDX-License-Identifier: Apache-2.0
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

static const char *status_names[] = { "creating", "created", "running", "stopped" };

const char *ign_status_name(enum ign_status s)
{
	return status_names[s];
}

int ign_state_allows(const struct ign_state *st, enum ign_op op, struct ign_err *err)
{
	enum ign_status s = st->status;

	switch (op) {
	case IGN_OP_START:
		if (s == IGN_CREATED)
			return 0;
		return ign_err_setx(err, EINVAL, "cannot start %s container `%s`",
				    s == IGN_STOPPED ? "a stopped" : s == IGN_RUNNING ?
				    "an already running" : "a creating", st->id);
	case IGN_OP_KILL:
		if (s == IGN_CREATED || s == IGN_RUNNING)
			return 0;
		return ign_err_setx(err, EINVAL, "cannot kill container `%s`: it is %s", st->id,
				    ign_status_name(s));
	case IGN_OP_EXEC:
		if (s == IGN_RUNNING)
			return 0;
		return ign_err_setx(err, EINVAL, "cannot exec in container `%s`: it is %s", st->id,
				    ign_status_name(s));
	case IGN_OP_DELETE:
		if (s == IGN_STOPPED || s == IGN_CREATED)
			return 0;
		return ign_err_setx(err, EBUSY, "cannot delete container `%s` that is not stopped: "
				    "%s (use --force)", st->id, ign_status_name(s));
	case IGN_OP_DELETE_FORCE:
		return 0;
	case IGN_OP_RESET:
		if (s == IGN_CREATED || s == IGN_RUNNING)
			return 0;
		return ign_err_setx(err, EINVAL, "cannot reset container `%s`: it is %s", st->id,
				    ign_status_name(s));
	}
	return ign_err_setx(err, EINVAL, "unknown operation");
}

int ign_id_check(const char *id, struct ign_err *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > IGN_ID_MAX || id[0] == '.')  /* ".", "..", and ours: .bases */
		goto bad;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+-.", *p)))
			goto bad;
	return 0;
bad:
	return ign_err_setx(err, EINVAL, "invalid container id `%s`: use 1 to %d letters, digits "
			    "and `_+-.`, not beginning with `.`", id, IGN_ID_MAX);
}

int ign_state_dir(const char *root, const char *id, char *buf, size_t len, struct ign_err *err)
{
	int r;

	if ((r = ign_id_check(id, err)) < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s/%s", root, id) >= len)
		return ign_err_setx(err, ENAMETOOLONG, "state directory for `%s` under `%s` is too long",
				    id, root);
	return 0;
}

static int copy_str(char *dst, size_t len, const struct ign_json *obj, const char *key,
		    struct ign_err *err)
{
	const char *s;
	int r;

	if ((r = ign_json_string(ign_json_member(obj, key), key, &s, err)) < 0)
		return r;
	if (strlen(s) >= len)
		return ign_err_setx(err, EINVAL, "%s: too long", key);
	strcpy(dst, s);
	return 0;
}

int ign_state_read(const char *dir, struct ign_state *st, struct ign_err *err)
{
	char path[PATH_MAX];
	cleanup_free char *text = NULL;
	cleanup_json struct ign_json *j = NULL;
	const char *status;
	int64_t n;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if ((r = ign_read_file(path, 1 << 20, &text, &len, err)) < 0)
		return r;
	if ((r = ign_json_parse(text, &j, err)) < 0 ||
	    (r = copy_str(st->id, sizeof(st->id), j, "id", err)) < 0 ||
	    (r = copy_str(st->oci_version, sizeof(st->oci_version), j, "ociVersion", err)) < 0 ||
	    (r = copy_str(st->bundle, sizeof(st->bundle), j, "bundle", err)) < 0 ||
	    (r = copy_str(st->rootfs, sizeof(st->rootfs), j, "rootfs", err)) < 0 ||
	    (r = copy_str(st->created, sizeof(st->created), j, "created", err)) < 0 ||
	    (r = ign_json_string(ign_json_member(j, "status"), "status", &status, err)) < 0)
		goto bad;
	for (r = 0; r < 4 && strcmp(status, status_names[r]); r++)
		;
	if (r == 4) {
		r = ign_err_setx(err, EINVAL, "status: unknown `%s`", status);
		goto bad;
	}
	st->status = r;
	if ((r = ign_json_int64(ign_json_member(j, "pid"), "pid", &n, err)) < 0)
		goto bad;
	st->pid = (int)n;
	if ((r = ign_json_int64(ign_json_member(j, "ignPidStart"), "ignPidStart", &n, err)) < 0)
		goto bad;
	st->pid_start = (unsigned long long)n;
	if ((r = ign_json_int64(ign_json_member(j, "ignExitStatus"), "ignExitStatus", &n, err)) < 0)
		goto bad;
	st->exit_status = (int)n;
	const struct ign_json *a = ign_json_member(j, "annotations");
	if (a) {
		struct ign_jgen *g = ign_jgen_new();
		ign_jgen_node(g, a);
		cleanup_free char *t = ign_jgen_finish(g);
		ign_jgen_free(g);
		if (t && ign_json_parse(t, &st->annotations, NULL) < 0)
			st->annotations = NULL;
	}
	return 0;
bad:
	return ign_err_wrap(err, "%s is damaged (`ign-runtime delete --force %s` removes it)", path,
			    st->id[0] ? st->id : "ID");
}

void ign_state_gen(const struct ign_state *st, struct ign_jgen *g)
{
	ign_jgen_map_open(g);
	ign_jgen_string(g, "ociVersion"), ign_jgen_string(g, st->oci_version);
	ign_jgen_string(g, "id"), ign_jgen_string(g, st->id);
	ign_jgen_string(g, "pid"), ign_jgen_int(g, st->status == IGN_STOPPED ? 0 : st->pid);
	ign_jgen_string(g, "status"), ign_jgen_string(g, ign_status_name(st->status));
	ign_jgen_string(g, "bundle"), ign_jgen_string(g, st->bundle);
	ign_jgen_string(g, "rootfs"), ign_jgen_string(g, st->rootfs);
	ign_jgen_string(g, "created"), ign_jgen_string(g, st->created);
	if (st->annotations && ign_json_len(st->annotations))
		ign_jgen_string(g, "annotations"), ign_jgen_node(g, st->annotations);
	ign_jgen_string(g, "owner"), ign_jgen_string(g, "");
}

int ign_state_write(const char *dir, const struct ign_state *st, struct ign_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct ign_jgen *g = ign_jgen_new();

	ign_state_gen(st, g);
	ign_jgen_string(g, "ignPidStart"), ign_jgen_int(g, (long long)st->pid_start);
	ign_jgen_string(g, "ignExitStatus"), ign_jgen_int(g, st->exit_status);
	/* the pid as it was, even once stopped: delete --force of a half-dead container needs it */
	ign_jgen_map_close(g);
	cleanup_free char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	if (!text)
		return ign_err_setx(err, EINVAL, "state of `%s`: cannot encode", st->id);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.json.%d", dir, (int)getpid());
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;
	if (fd < 0)
		return ign_err_set(err, errno, "write `%s`", tmp);
	if ((r = ign_write_all(fd, text, strlen(text))) < 0 || (r = fsync(fd) < 0 ? -errno : 0) < 0) {
		unlink(tmp);
		return ign_err_set(err, -r, "write `%s`", tmp);
	}
	if (rename(tmp, path) < 0) {
		r = errno;
		unlink(tmp);
		return ign_err_set(err, r, "rename to `%s`", path);
	}
	return 0;
}

void ign_state_free(struct ign_state *st)
{
	if (st->annotations)
		ign_json_free(st->annotations);
	st->annotations = NULL;
}

unsigned long long ign_proc_start_time(int pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm may hold spaces and parens: count fields after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* field 3 (state) follows; start time is field 22 */
	char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
	for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
		if (field == 3 && tok[0] == 'Z')
			return 0;  /* a zombie has ended: its exit status is all that is left */
		if (field == 22) {
			start = strtoull(tok, NULL, 10);
			break;
		}
	}
	return start;
}

int ign_proc_alive(int pid, unsigned long long start)
{
	return pid > 0 && ign_proc_start_time(pid) == start && start != 0;
}

void ign_state_refresh(struct ign_state *st)
{
	if ((st->status == IGN_CREATING || st->status == IGN_CREATED || st->status == IGN_RUNNING) &&
	    !ign_proc_alive(st->pid, st->pid_start))
		st->status = IGN_STOPPED;
}

void ign_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}
