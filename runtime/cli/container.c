// SPDX-License-Identifier: Apache-2.0
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"

int container_load(struct globals *g, const char *id, struct container *c, struct ign_err *err)
{
	struct stat sb;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = ign_state_dir(g->root, id, c->dir, sizeof(c->dir), err)) < 0)
		return r;
	if (stat(c->dir, &sb) < 0)
		return ign_err_setx(err, ENOENT, "container `%s` does not exist", id);
	if ((r = ign_state_read(c->dir, &c->st, err)) < 0)
		return r;
	ign_state_refresh(&c->st);
	return 0;
}

void container_free(struct container *c)
{
	ign_state_free(&c->st);
}

int container_remove(const char *dir, struct ign_err *err)
{
	int r = ign_rm_rf(dir);

	return r < 0 ? ign_err_set(err, -r, "remove `%s`", dir) : 0;
}

int hooks_run(const struct ign_oci_config *cfg, enum ign_hook_kind kind,
	      const struct ign_state *st, struct ign_err *err)
{
	for (unsigned i = 0; i < cfg->nhooks[kind]; i++) {
		const struct ign_oci_hook *h = &cfg->hooks[kind][i];
		struct ign_jgen *g = ign_jgen_new();
		int in[2], status;

		ign_state_gen(st, g);
		ign_jgen_map_close(g);
		cleanup_free char *state = ign_jgen_finish(g);
		ign_jgen_free(g);
		if (!state || pipe2(in, O_CLOEXEC) < 0)
			return ign_err_set(err, errno ? errno : EINVAL, "%s hook", ign_hook_name(kind));
		pid_t pid = fork();
		if (pid == 0) {
			static const char *none[] = { NULL };
			const char *argv0[] = { h->path, NULL };
			dup2(in[0], STDIN_FILENO);
			execve(h->path, (char **)(h->args && h->args[0] ? h->args : argv0),
			       (char **)(h->env ? h->env : none));
			_exit(127);
		}
		close(in[0]);
		if (pid < 0) {
			close(in[1]);
			return ign_err_set(err, errno, "%s hook `%s`", ign_hook_name(kind), h->path);
		}
		signal(SIGPIPE, SIG_IGN);
		ign_write_all(in[1], state, strlen(state));
		close(in[1]);
		long long waited = 0, limit = h->timeout ? h->timeout * 1000LL : -1;
		pid_t w;
		while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
			if (limit >= 0 && waited >= limit) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				return ign_err_setx(err, ETIMEDOUT, "%s hook `%s` timed out after %d s",
						    ign_hook_name(kind), h->path, h->timeout);
			}
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			waited += 10;
		}
		if (w < 0)
			return ign_err_set(err, errno, "%s hook `%s`", ign_hook_name(kind), h->path);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			return ign_err_setx(err, EIO, "%s hook `%s` failed (%s %d)", ign_hook_name(kind),
					    h->path, WIFEXITED(status) ? "exit status" : "signal",
					    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	return 0;
}

int pidfile_write(const char *path, int pid, struct ign_err *err)
{
	char tmp[PATH_MAX], num[16];
	const char *slash = strrchr(path, '/');
	int n = snprintf(num, sizeof(num), "%d", pid);

	if (slash)
		snprintf(tmp, sizeof(tmp), "%.*s/.%s", (int)(slash - path), path, slash + 1);
	else
		snprintf(tmp, sizeof(tmp), ".%s", path);
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ign_write_all(fd, num, n) < 0)
		return ign_err_set(err, errno, "pid file `%s`", tmp);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return ign_err_set(err, e, "pid file `%s`", path);
	}
	return 0;
}

int signal_parse(const char *s, struct ign_err *err)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s && !*end) {
		if (n > 0 && n < 65)
			return (int)n;
	} else {
		const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
		for (int i = 1; i < NSIG; i++) {
			const char *abbrev = sigabbrev_np(i);
			if (abbrev && !strcasecmp(abbrev, name))
				return i;
		}
	}
	return ign_err_setx(err, EINVAL, "invalid signal `%s`", s);
}

static int exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return 0;
}

int find_shim(char *buf, size_t len, struct ign_err *err)
{
	char dir[PATH_MAX];
	const char *env = getenv("IGN_SHIM");

	if (env) {
		snprintf(buf, len, "%s", env);
	} else {
		if (exe_dir(dir, sizeof(dir)) < 0)
			return ign_err_set(err, errno, "/proc/self/exe");
		snprintf(buf, len, "%s/ign-shim", dir);
	}
	if (access(buf, X_OK) < 0)
		return ign_err_set(err, errno, "ign-shim `%s` (install it beside ign-runtime, or set "
				   "IGN_SHIM)", buf);
	return 0;
}

int find_share(const char *env, const char *name, char *buf, size_t len, struct ign_err *err)
{
	char dir[PATH_MAX];
	const char *v = getenv(env);

	if (v) {
		snprintf(buf, len, "%s", v);
		if (access(buf, R_OK) < 0)
			return ign_err_set(err, errno, "%s=`%s`", env, buf);
		return 0;
	}
	const char *tried[3] = { NULL, "/usr/local/share/ign-runtime", "/usr/share/ign-runtime" };
	if (exe_dir(dir, sizeof(dir)) == 0) {
		strncat(dir, "/../share/ign-runtime", sizeof(dir) - strlen(dir) - 1);
		tried[0] = dir;
	}
	for (int i = 0; i < 3; i++) {
		if (!tried[i])
			continue;
		snprintf(buf, len, "%s/%s", tried[i], name);
		if (access(buf, R_OK) == 0)
			return 0;
	}
	return ign_err_setx(err, ENOENT, "no %s: not in %s, /usr/local/share/ign-runtime or "
			    "/usr/share/ign-runtime (run `make install`, or set %s)", name,
			    tried[0] ? tried[0] : "(the binary's ../share/ign-runtime)", env);
}

const char *image_cache(char *buf, size_t len)
{
	const char *env = getenv("IGN_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env)
		snprintf(buf, len, "%s/images", env);
	else if (geteuid() == 0)
		snprintf(buf, len, "/var/lib/ign-runtime/images");
	else if (xdg)
		snprintf(buf, len, "%s/ign-runtime/images", xdg);
	else
		snprintf(buf, len, "%s/.cache/ign-runtime/images", home ? home : "/tmp");
	return buf;
}

int shim_kill_wait(const struct ign_state *st)
{
	if (!ign_proc_alive(st->pid, st->pid_start))
		return 0;
	cleanup_close int pfd = pidfd_open(st->pid, 0);
	/* the pidfd is the process the state names, or the pid was reused */
	if (pfd < 0 || !ign_proc_alive(st->pid, st->pid_start))
		return 0;
	pidfd_send_signal(pfd, SIGKILL, NULL, 0);
	/*
	 * The pidfd reads as ready once every thread has exited, after the
	 * kernel freed the VM's memory: seconds for a big VM under nested
	 * emulation, and never quicker than that for delete's caller to see.
	 */
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, SHIM_EXIT_WAIT_S * 1000)) < 0 && errno == EINTR)
		;
	waitpid(st->pid, NULL, WNOHANG);  /* our child (run) is reaped here */
	return r > 0 ? 0 : -1;
}
