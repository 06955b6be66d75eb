// SPDX-License-Identifier: Apache-2.0
/*
 * exec [--process F | ARGS...] [--detach] [--pid-file P] [--tty] [--console-socket S]
 *      [--cwd D] [--env K=V] [--user U[:G]] ID
 * Runs one more process in the container's guest. This process (or, with
 * --detach, a child of ours that the caller's subreaper adopts) is its host
 * side: it relays the stdio, forwards signals, and exits with its status.
 * Failures of exec itself exit 255, as runc's do.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "ctl.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "proc.h"

#define EXEC_FAILED 255
#define MAX_ENV 128

struct exec_opts {
	const char *process, *pid_file, *console, *cwd, *user;
	const char *env[MAX_ENV];
	unsigned nenv;
	int detach, tty;
};

/* A process object from the flags, as runc builds one. */
static char *process_from_args(const struct exec_opts *o, char **args, struct ign_err *err)
{
	struct ign_jgen *g = ign_jgen_new();
	long uid = 0, gid = 0;

	if (o->user && sscanf(o->user, "%ld:%ld", &uid, &gid) < 1) {
		ign_jgen_free(g);
		ign_err_setx(err, EINVAL, "--user `%s`: want UID[:GID]", o->user);
		return NULL;
	}
	struct ign_proc_flags f = { .args = args, .env = o->env, .nenv = o->nenv, .cwd = o->cwd,
				    .uid = uid, .gid = gid, .tty = o->tty };
	ign_jgen_map_open(g);
	ign_proc_flags_json(g, &f);
	ign_jgen_map_close(g);
	char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	if (!text)
		ign_err_setx(err, EINVAL, "exec: cannot encode the process");
	return text;
}

/* Relays until the process has exited and its output is out; returns its status. */
static int relay(struct ign_proc *p, int slave, int sigfd)
{
	struct ign_err err = { 0 };

	for (;;) {
		ign_proc_check_exit(p);
		if (ign_proc_done(p))
			return p->status;
		struct pollfd fds[2 + IGN_PROC_NFDS] = {
			{ .fd = p->exited ? -1 : p->agent->ctl, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		ign_proc_pollfds(p, &fds[2]);
		if (poll(fds, 2 + IGN_PROC_NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return EXEC_FAILED;
		}
		if (fds[0].revents && ign_agent_read_event(p->agent, &err) < 0)
			return EXEC_FAILED;  /* the guest went away under us */
		if (fds[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				struct winsize ws;
				if (si.ssi_signo != SIGWINCH)
					ign_proc_signal(p, (int)si.ssi_signo, 0, &err);
				else if (slave >= 0 && ioctl(slave, TIOCGWINSZ, &ws) == 0)
					ign_proc_resize(p, ws.ws_row, ws.ws_col, &err);
			}
		}
		ign_proc_step(p, &fds[2]);
	}
}

static int parse(int argc, char **argv, struct exec_opts *o, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "process", required_argument, NULL, 'p' }, { "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 's' }, { "detach", no_argument, NULL, 'd' },
		{ "tty", no_argument, NULL, 't' }, { "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' }, { "user", required_argument, NULL, 'u' },
		{ "preserve-fds", required_argument, NULL, 'F' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "process-label", required_argument, NULL, 'x' },
		{ "apparmor", required_argument, NULL, 'x' }, { "cap", required_argument, NULL, 'x' },
		{ "cgroup", required_argument, NULL, 'x' },
		{ "no-new-privs", no_argument, NULL, 'X' }, { "ignore-paused", no_argument, NULL, 'X' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+p:dte:u:g:c:", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->process = optarg; break;
		case 'P': o->pid_file = optarg; break;
		case 's': o->console = optarg; break;
		case 'd': o->detach = 1; break;
		case 't': o->tty = 1; break;
		case 'w': o->cwd = optarg; break;
		case 'u': o->user = optarg; break;
		case 'e':
			if (o->nenv == MAX_ENV)
				return ign_err_setx(err, E2BIG, "exec: too many --env");
			o->env[o->nenv++] = optarg;
			break;
		case 'F':
			if (atoi(optarg) != 0)
				return ign_err_setx(err, ENOTSUP, "--preserve-fds: not into a VM");
			break;
		case 'g': case 'x': case 'X': break;
		default: return ign_err_setx(err, EINVAL, "exec: bad option");
		}
	}
	if (optind >= argc)
		return ign_err_setx(err, EINVAL, "exec: want a container id");
	if (!o->process && optind + 1 >= argc)
		return ign_err_setx(err, EINVAL, "exec: nothing to run (ARGS or --process)");
	return 0;
}

int cmd_exec(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	struct exec_opts o = { 0 };
	struct container c;
	struct ign_agent agent;
	struct ign_proc p;
	cleanup_free char *proc_text = NULL, *spawn = NULL;
	cleanup_json struct ign_json *process = NULL;
	char vsock[PATH_MAX + 16], id[64];
	int r, tty = 0, slave = -1, ready[2] = { -1, -1 };

	if ((r = parse(argc, argv, &o, err)) < 0)
		return r;
	if ((r = container_load(g, argv[optind], &c, err)) < 0)
		return r;
	if ((r = ign_state_allows(&c.st, IGN_OP_EXEC, err)) < 0) {
		container_free(&c);
		return r;
	}
	snprintf(vsock, sizeof(vsock), "%s/%s", c.dir, IGN_VSOCK_SOCK);
	container_free(&c);
	if (o.process) {
		size_t len;
		if ((r = ign_read_file(o.process, 1 << 20, &proc_text, &len, err)) < 0)
			return r;
	} else if (!(proc_text = process_from_args(&o, argv + optind + 1, err))) {
		return -EINVAL;
	}
	if ((r = ign_json_parse(proc_text, &process, err)) < 0)
		return ign_err_wrap(err, "process");
	if (ign_json_member(process, "terminal") &&
	    (r = ign_json_bool(ign_json_member(process, "terminal"), "process.terminal", &tty,
			       err)) < 0)
		return r;
	tty |= o.tty;
	if (tty && !o.console && o.detach)
		return ign_err_setx(err, EINVAL, "exec: a detached terminal needs --console-socket");

	/* With --detach, a child does the work and tells us when it runs. */
	if (o.detach) {
		if (pipe2(ready, O_CLOEXEC) < 0)
			return ign_err_set(err, errno, "pipe");
		pid_t child = fork();
		if (child < 0)
			return ign_err_set(err, errno, "fork");
		if (child > 0) {
			char msg[IGN_ERR_MSG_MAX];
			close(ready[1]);
			ssize_t n = ign_read_full(ready[0], msg, sizeof(msg) - 1);
			msg[n > 0 ? n : 0] = 0;
			if (strcmp(msg, "ok"))
				return ign_err_setx(err, EIO, "%s", msg[0] ? msg : "exec failed");
			if (o.pid_file && (r = pidfile_write(o.pid_file, child, err)) < 0) {
				kill(child, SIGKILL);
				return r;
			}
			return 0;
		}
		close(ready[0]);
	}
	snprintf(id, sizeof(id), "exec-%d", (int)getpid());
	sigset_t mask;
	sigemptyset(&mask);
	for (int s = 1; s < SIGRTMIN; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGPIPE && s != SIGSEGV &&
		    s != SIGBUS && s != SIGILL && s != SIGFPE && s != SIGABRT && s != SIGTRAP)
			sigaddset(&mask, s);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	cleanup_close int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	if ((r = ign_agent_open(&agent, vsock, 30000, err)) < 0)
		goto fail;
	if (!(spawn = ign_proc_spawn_message(id, 0, process, NULL))) {
		r = ign_err_setx(err, EINVAL, "exec: cannot encode the spawn message");
		goto fail;
	}
	if ((r = ign_proc_spawn(&agent, id, tty, spawn, &p, err)) < 0)
		goto fail;
	if (tty && o.console) {
		if ((r = ign_console_open(o.console, 0, 0, &slave, err)) < 0)
			goto fail;
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
	}
	int in = slave >= 0 ? slave : STDIN_FILENO, out = slave >= 0 ? slave : STDOUT_FILENO;
	if ((r = ign_proc_start(&p, in, out, slave >= 0 ? -1 : STDERR_FILENO, NULL, err)) < 0)
		goto fail;
	if (o.detach) {
		ign_write_all(ready[1], "ok", 2);
		close(ready[1]);
	}
	int status = relay(&p, slave, sigfd);
	ign_proc_close(&p);
	ign_agent_close(&agent);
	return status;
fail:
	if (o.detach) {
		ign_write_all(ready[1], err->msg, strlen(err->msg));
		_exit(EXEC_FAILED);
	}
	return r;
}
