// SPDX-License-Identifier: Apache-2.0
/*
 * ign-agentctl: run a process in a guest through its ign-init, with stdio
 * relayed, and exit with its status. A developer and test tool over the
 * same agent client the shim uses (docs/agent-protocol.md).
 *
 *   ign-agentctl --vsock PATH [options] -- ARGS...     run ARGS (the main process,
 *                                                      or one more with --exec)
 *   ign-agentctl --vsock PATH --kill ID SIGNAL         signal a running process
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
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "proc.h"
#include "ign/cleanup.h"
#include "ign/err.h"
#include "ign/fdio.h"
#include "ign/json.h"

#define MAX_ENV 64
#define MAX_MOUNTS 16
#define STATUS_FAILED 125  /* like podman: the tool itself failed */

struct opts {
	const char *vsock, *id, *cwd, *hostname, *kill_id;
	const char *env[MAX_ENV], *rlimit[MAX_ENV];
	unsigned nenv, nrlimit;
	char *mount[MAX_MOUNTS];
	unsigned nmount;
	long uid, gid;
	int exec, tty, timeout_ms, kill_sig, kill_all;
	char **argv;
};

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ign-agentctl --vsock PATH [options] -- ARGS...\n"
		"       ign-agentctl --vsock PATH [--all] --kill ID SIGNAL\n"
		"Run a process in an ign-runtime guest through ign-init and relay its stdio;\n"
		"exit with its status (128+N when killed by signal N).\n"
		"\n"
		"  -s, --vsock PATH   the VMM's vsock socket (ign-vmm --vsock PATH)\n"
		"      --id ID        process id (default \"main\", or \"exec-<pid>\" with --exec)\n"
		"      --exec         one more process in a running guest (not its main process)\n"
		"  -t, --tty          give the process a terminal\n"
		"  -e, --env K=V      environment (repeatable; default PATH only)\n"
		"  -w, --cwd DIR      working directory (default /)\n"
		"  -u, --user UID[:GID]  user and group (default 0:0)\n"
		"      --hostname H   the guest's hostname (main process only)\n"
		"      --mount TYPE,SOURCE,DEST[,OPTION...]  a mount for the main process\n"
		"                     (repeatable), e.g. tmpfs,tmpfs,/scratch,size=1m,noexec\n"
		"      --rlimit NAME=SOFT[:HARD]  e.g. NOFILE=64 (repeatable)\n"
		"      --timeout SEC  how long to wait for the guest's agent (default 30)\n"
		"      --kill ID SIG  send signal number SIG to process ID; --all: to all of\n"
		"                     its processes\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: the process's; %d when ign-agentctl itself failed.\n", STATUS_FAILED);
}

static int parse(int argc, char **argv, struct opts *o, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "vsock", required_argument, NULL, 's' }, { "id", required_argument, NULL, 'I' },
		{ "exec", no_argument, NULL, 'x' }, { "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' }, { "cwd", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' }, { "hostname", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'T' }, { "kill", required_argument, NULL, 'k' },
		{ "all", no_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
		{ "mount", required_argument, NULL, 'M' }, { "rlimit", required_argument, NULL, 'R' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:te:w:u:h", longs, NULL)) != -1) {
		switch (c) {
		case 's': o->vsock = optarg; break;
		case 'I': o->id = optarg; break;
		case 'x': o->exec = 1; break;
		case 't': o->tty = 1; break;
		case 'w': o->cwd = optarg; break;
		case 'H': o->hostname = optarg; break;
		case 'a': o->kill_all = 1; break;
		case 'k': o->kill_id = optarg; break;
		case 'e':
			if (o->nenv == MAX_ENV || !strchr(optarg, '='))
				return ign_err_setx(err, EINVAL, "--env `%s`: want K=V, at most %d",
						    optarg, MAX_ENV);
			o->env[o->nenv++] = optarg;
			break;
		case 'M':
			if (o->nmount == MAX_MOUNTS || !strchr(optarg, ','))
				return ign_err_setx(err, EINVAL, "--mount `%s`: want TYPE,SOURCE,DEST"
						    "[,OPTION...], at most %d", optarg, MAX_MOUNTS);
			o->mount[o->nmount++] = optarg;
			break;
		case 'R':
			if (o->nrlimit == MAX_ENV || !strchr(optarg, '='))
				return ign_err_setx(err, EINVAL, "--rlimit `%s`: want NAME=SOFT[:HARD]",
						    optarg);
			o->rlimit[o->nrlimit++] = optarg;
			break;
		case 'u':
			if (sscanf(optarg, "%ld:%ld", &o->uid, &o->gid) < 1 || o->uid < 0 || o->gid < 0)
				return ign_err_setx(err, EINVAL, "--user `%s`: want UID[:GID]", optarg);
			break;
		case 'T':
			o->timeout_ms = atoi(optarg) * 1000;
			if (o->timeout_ms <= 0)
				return ign_err_setx(err, EINVAL, "--timeout `%s`: want seconds", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return ign_err_setx(err, EINVAL, "bad option `%s` (see --help)",
					    argv[optind - 1]);
		}
	}
	if (!o->vsock)
		return ign_err_setx(err, EINVAL, "no --vsock PATH (see --help)");
	if (o->kill_id) {
		if (optind != argc - 1 || (o->kill_sig = atoi(argv[optind])) <= 0)
			return ign_err_setx(err, EINVAL, "--kill ID SIGNAL: want one signal number");
		return 0;
	}
	if (optind >= argc)
		return ign_err_setx(err, EINVAL, "nothing to run: ign-agentctl ... -- ARGS");
	o->argv = argv + optind;
	return 0;
}

static char *spawn_message(const struct opts *o)
{
	struct ign_jgen *g = ign_jgen_new();
	struct winsize ws = { 0 };

	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, "spawn");
	ign_jgen_string(g, "id"), ign_jgen_string(g, o->id);
	ign_jgen_string(g, "main"), ign_jgen_bool(g, !o->exec);
	if (o->hostname)
		ign_jgen_string(g, "hostname"), ign_jgen_string(g, o->hostname);
	struct ign_proc_flags f = { .args = o->argv, .env = o->env, .nenv = o->nenv, .cwd = o->cwd,
				    .uid = o->uid, .gid = o->gid, .tty = o->tty };
	ign_jgen_string(g, "process");
	ign_jgen_map_open(g);
	ign_proc_flags_json(g, &f);
	ign_jgen_string(g, "rlimits");
	ign_jgen_array_open(g);
	for (unsigned i = 0; i < o->nrlimit; i++) {
		char name[32];
		unsigned long long soft = 0, hard = 0;
		int n = sscanf(o->rlimit[i], "%31[A-Z_]=%llu:%llu", name, &soft, &hard);
		char type[48];
		snprintf(type, sizeof(type), "RLIMIT_%s", name);
		ign_jgen_map_open(g);
		ign_jgen_string(g, "type"), ign_jgen_string(g, type);
		ign_jgen_string(g, "soft"), ign_jgen_int(g, soft);
		ign_jgen_string(g, "hard"), ign_jgen_int(g, n == 3 ? hard : soft);
		ign_jgen_map_close(g);
	}
	ign_jgen_array_close(g);
	if (o->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row) {
		ign_jgen_string(g, "consoleSize");
		ign_jgen_map_open(g);
		ign_jgen_string(g, "height"), ign_jgen_int(g, ws.ws_row);
		ign_jgen_string(g, "width"), ign_jgen_int(g, ws.ws_col);
		ign_jgen_map_close(g);
	}
	ign_jgen_map_close(g);
	/* mounts: TYPE,SOURCE,DEST[,OPTION...] (the strings are cut in place) */
	ign_jgen_string(g, "mounts");
	ign_jgen_array_open(g);
	for (unsigned i = 0; i < o->nmount; i++) {
		char *save = NULL, *type = strtok_r(o->mount[i], ",", &save);
		char *src = strtok_r(NULL, ",", &save), *dst = strtok_r(NULL, ",", &save);
		ign_jgen_map_open(g);
		ign_jgen_string(g, "type"), ign_jgen_string(g, type);
		ign_jgen_string(g, "source"), ign_jgen_string(g, src ? src : "none");
		ign_jgen_string(g, "destination"), ign_jgen_string(g, dst ? dst : "");
		ign_jgen_string(g, "options");
		ign_jgen_array_open(g);
		for (char *opt; (opt = strtok_r(NULL, ",", &save));)
			ign_jgen_string(g, opt);
		ign_jgen_array_close(g);
		ign_jgen_map_close(g);
	}
	ign_jgen_array_close(g);
	ign_jgen_map_close(g);
	char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	return text;
}

/*
 * Relays until the process has exited and its output has ended; the guest's
 * streams are non-blocking (proc.c), so a full stdin stream never stops the
 * output from being read.
 */
static int relay(struct ign_agent *a, const struct opts *o, struct ign_proc *p, int *status,
		 struct ign_err *err)
{
	for (;;) {
		if (winch && o->tty) {
			struct winsize ws;
			winch = 0;
			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
				ign_proc_resize(p, ws.ws_row, ws.ws_col, err);
		}
		ign_proc_check_exit(p);
		if (ign_proc_done(p)) {
			*status = p->status;
			return 0;
		}
		struct pollfd fds[1 + IGN_PROC_NFDS];
		fds[0] = (struct pollfd){ .fd = p->exited ? -1 : a->ctl, .events = POLLIN };
		ign_proc_pollfds(p, &fds[1]);
		if (poll(fds, 1 + IGN_PROC_NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return ign_err_set(err, errno, "poll");
		}
		if (fds[0].revents) {
			if (ign_agent_read_event(a, err) < 0)
				return ign_err_wrap(err, "waiting for process `%s`", o->id);
			ign_proc_check_exit(p);
			if (p->exited && !o->exec)
				ign_agent_close(a);  /* lets the guest power off at once */
		}
		ign_proc_step(p, &fds[1]);
	}
}

static int run(struct opts *o, int *status, struct ign_err *err)
{
	struct ign_agent a;
	struct ign_proc p = { .streams = { -1, -1, -1 } };
	char exec_id[32];
	int r;

	if (!o->id) {
		snprintf(exec_id, sizeof(exec_id), "exec-%d", (int)getpid());
		o->id = o->exec ? exec_id : "main";
	}
	if ((r = ign_agent_open(&a, o->vsock, o->timeout_ms, err)) < 0)
		return r;
	cleanup_free char *spawn = spawn_message(o);
	if (!spawn) {
		r = ign_err_setx(err, EINVAL, "cannot encode the spawn message");
		goto out;
	}
	if ((r = ign_proc_spawn(&a, o->id, o->tty, spawn, &p, err)) < 0)
		goto out;
	struct termios saved, raw;
	int restore = o->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (restore) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		signal(SIGWINCH, on_winch);
	}
	if ((r = ign_proc_start(&p, STDIN_FILENO, STDOUT_FILENO, o->tty ? -1 : STDERR_FILENO, NULL,
				err)) == 0)
		r = relay(&a, o, &p, status, err);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
out:
	ign_proc_close(&p);
	ign_agent_close(&a);
	return r;
}

static int kill_proc(const struct opts *o, struct ign_err *err)
{
	struct ign_agent a;
	struct ign_proc p = { .agent = &a, .streams = { -1, -1, -1 } };
	int r;

	snprintf(p.id, sizeof(p.id), "%s", o->kill_id);
	if ((r = ign_agent_open(&a, o->vsock, o->timeout_ms, err)) < 0)
		return r;
	r = ign_proc_signal(&p, o->kill_sig, o->kill_all, err);
	ign_agent_close(&a);
	return r;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 30000 };
	struct ign_err err = { 0 };
	int status = 0, r;

	signal(SIGPIPE, SIG_IGN);
	if ((r = parse(argc, argv, &o, &err)) == 0)
		r = o.kill_id ? kill_proc(&o, &err) : run(&o, &status, &err);
	if (r < 0) {
		fprintf(stderr, "ign-agentctl: %s\n", err.msg);
		return STATUS_FAILED;
	}
	return status;
}
