// SPDX-License-Identifier: Apache-2.0
/*
 * ign-init: PID 1 of every ign-runtime guest, static, alone in its initramfs.
 *
 * Boot: mount the overlay root (rootfs.c), bring up lo, listen on vsock port
 * IGN_AGENT_PORT, write the boot marker. With ign.root=wait (a warm base,
 * snapshotted at the marker) the root waits for the host's "setup" message,
 * which each clone gets with its own seed, time and root disk (identity.c).
 * Then serve the host (protocol in
 * docs/agent-protocol.md): each connection's first message says what it is,
 * "hello" for a control connection, "attach" for one of a process's stdio
 * streams, which after the reply carries raw bytes and becomes the
 * process's stdin, stdout or stderr as it is (or the far end of its pty).
 *
 * When the main process exits: every other process is killed, the host is
 * told the status and given up to 2 s to hang up, and the status byte goes
 * to the VMM's exit port, which ends the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/frame.h"
#include "ign/guest_abi.h"
#include "ign/json.h"
#include "ign/relay.h"
#include "identity.h"
#include "net.h"
#include "rootfs.h"
#include "spec.h"

#define MAX_CONNS 64
#define MAX_PROCS 64
#define ID_MAX 64
#define HANGUP_WAIT_MS 2000
#define CONN_TIMEOUT_S 10
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum stream { S_STDIN, S_STDOUT, S_STDERR, S_PTY, S_COUNT };
static const char *stream_names[S_COUNT] = { "stdin", "stdout", "stderr", "pty" };

struct proc {
	char id[ID_MAX + 1];
	struct spec *spec;
	int ctl;                /* the control connection that spawned it; -1: gone */
	int is_main;
	pid_t pid;              /* 0 until started */
	int stream[S_COUNT];
	int master;             /* pty master of a terminal process */
	struct ign_relay out, in;  /* master -> pty stream, pty stream -> master */
	int exited, status;
	char exe[4096];         /* the program, as found when it was spawned */
};

static struct {
	int listen_fd, sig_fd;
	int conns[MAX_CONNS];   /* control connections, and new ones not yet named */
	int is_ctl[MAX_CONNS];
	unsigned nconns;
	struct proc *procs[MAX_PROCS];
	int have_main;
	int debug;
	struct root_config rc;
	int root_wait;          /* ign.root=wait: mount the root on "setup" */
	int root_mounted;
} g = { .rc = { .device = "/dev/vda" } };

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, "ign-init: ", 10) < 0 || write(STDERR_FILENO, buf, n) < 0)
		return;
}

/* Ends the VM with status: the VMM's exit port, or a power-off without one. */
static __attribute__((noreturn)) void vm_exit(int status)
{
	sync();
	if (ioperm(IGN_PORT_EXIT, 1, 1) == 0)
		outb(status & 0xff, IGN_PORT_EXIT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void set_read_timeout(int fd, int secs)
{
	struct timeval tv = { secs, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* ---- replies ---- */

static int send_msg(int fd, struct ign_jgen *gen)
{
	cleanup_free char *text = ign_jgen_finish(gen);
	struct ign_err err = { 0 };
	int r = text ? ign_frame_write(fd, text, &err) : -EINVAL;

	ign_jgen_free(gen);
	if (r < 0 && g.debug)
		say("send: %s", text ? err.msg : "bad message");
	return r;
}

static int reply_ok(int fd, const char *key, long long val)
{
	struct ign_jgen *gen = ign_jgen_new();

	ign_jgen_map_open(gen);
	ign_jgen_string(gen, "type");
	ign_jgen_string(gen, "ok");
	if (key) {
		ign_jgen_string(gen, key);
		ign_jgen_int(gen, val);
	}
	ign_jgen_map_close(gen);
	return send_msg(fd, gen);
}

static int reply_error(int fd, const char *msg)
{
	struct ign_jgen *gen = ign_jgen_new();

	ign_jgen_map_open(gen);
	ign_jgen_string(gen, "type");
	ign_jgen_string(gen, "error");
	ign_jgen_string(gen, "message");
	ign_jgen_string(gen, msg);
	ign_jgen_map_close(gen);
	return send_msg(fd, gen);
}

static void send_exit(struct proc *p)
{
	if (p->ctl < 0)
		return;
	struct ign_jgen *gen = ign_jgen_new();
	ign_jgen_map_open(gen);
	ign_jgen_string(gen, "type");
	ign_jgen_string(gen, "exit");
	ign_jgen_string(gen, "id");
	ign_jgen_string(gen, p->id);
	ign_jgen_string(gen, "status");
	ign_jgen_int(gen, p->status);
	ign_jgen_map_close(gen);
	send_msg(p->ctl, gen);
}

/* ---- processes ---- */

static struct proc *proc_find(const char *id)
{
	for (unsigned i = 0; i < MAX_PROCS; i++)
		if (g.procs[i] && !strcmp(g.procs[i]->id, id))
			return g.procs[i];
	return NULL;
}

static void proc_free(struct proc *p)
{
	for (unsigned i = 0; i < MAX_PROCS; i++)
		if (g.procs[i] == p)
			g.procs[i] = NULL;
	for (int s = 0; s < S_COUNT; s++)
		if (p->stream[s] >= 0)
			close(p->stream[s]);
	if (p->master >= 0)
		close(p->master);
	spec_free(p->spec);
	free(p);
}

/* In the child: report why it failed and end. */
static __attribute__((noreturn)) void child_fail(int errfd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(errfd, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1) < 0)
		_exit(127);
	_exit(127);
}

/* The words podman maps to exit codes 127 and 126 (as runc and crun say them). */
static const char *errno_words(int e)
{
	return e == ENOENT ? "no such file or directory" : e == EACCES ? "permission denied" :
	       strerror(e);
}

/* Runs the program find_program() found at spawn time. */
static void child_exec(const struct proc *p, int errfd)
{
	const struct spec *s = p->spec;

	execve(p->exe, (char **)s->argv, (char **)s->envp);
	child_fail(errfd, "exec `%s`: %s", s->argv[0], errno_words(errno));
}

static __attribute__((noreturn)) void child(struct proc *p, const char *slave, int errfd)
{
	const struct spec *s = p->spec;
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, "setsid: %s", strerror(errno));
	if (slave) {
		if ((fd = open(slave, O_RDWR)) < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			child_fail(errfd, "terminal `%s`: %s", slave, strerror(errno));
		for (int i = 0; i < 3; i++)
			dup2(fd, i);
		if (fd > 2)
			close(fd);
	} else {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int i = 0; i < 3; i++) {
			int src = p->stream[i] >= 0 ? p->stream[i] : null;
			if (src < 0 || dup2(src, i) < 0)
				child_fail(errfd, "%s: %s", stream_names[i], strerror(errno));
		}
	}
	for (unsigned i = 0; i < s->nrlimits; i++)
		if (setrlimit(s->rlimits[i].resource, &s->rlimits[i].lim) < 0)
			child_fail(errfd, "process.rlimits[%u]: %s", i, strerror(errno));
	if (setgroups(s->ngids, s->gids) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0)
		child_fail(errfd, "process.user %u:%u: %s", s->uid, s->gid, strerror(errno));
	if (chdir(s->cwd) < 0)
		child_fail(errfd, "process.cwd `%s`: %s", s->cwd, strerror(errno));
	child_exec(p, errfd);
	_exit(127);
}

static int open_pty(struct proc *p, char *slave, size_t len, struct ign_err *err)
{
	struct winsize ws = { .ws_row = p->spec->rows, .ws_col = p->spec->cols };

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, slave, len) != 0)
		return ign_err_set(err, errno, "open a pty");
	if (ws.ws_row && ws.ws_col)
		ioctl(p->master, TIOCSWINSZ, &ws);
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	if (p->stream[S_PTY] >= 0)
		fcntl(p->stream[S_PTY], F_SETFL, O_NONBLOCK);
	ign_relay_init(&p->out, p->master, p->stream[S_PTY], 0);
	ign_relay_init(&p->in, p->stream[S_PTY], p->master, 0);
	return 0;
}

static int proc_start(struct proc *p, struct ign_err *err)
{
	char slave[64] = "", msg[512];
	int r, errpipe[2];

	if (p->spec->terminal && (r = open_pty(p, slave, sizeof(slave), err)) < 0)
		return r;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return ign_err_set(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return ign_err_set(err, errno, "fork");
	}
	if (pid == 0) {
		close(errpipe[0]);
		child(p, p->spec->terminal ? slave : NULL, errpipe[1]);
	}
	close(errpipe[1]);
	ssize_t n = ign_read_full(errpipe[0], msg, sizeof(msg) - 1);
	close(errpipe[0]);
	if (n > 0) {
		msg[n] = 0;
		waitpid(pid, NULL, 0);
		return ign_err_setx(err, ENOEXEC, "%s", msg);
	}
	p->pid = pid;
	/* The child holds the streams now; a terminal's stream stays for the relay. */
	for (int s = S_STDIN; s <= S_STDERR; s++)
		if (p->stream[s] >= 0) {
			close(p->stream[s]);
			p->stream[s] = -1;
		}
	return 0;
}

/* A process has exited (and its pty drained): tell the host, end the VM for main. */
static void proc_finish(struct proc *p)
{
	if (p->master >= 0) {
		fcntl(p->out.to, F_SETFL, 0);
		while (!ign_relay_done(&p->out) && ign_relay_step(&p->out))
			;
	}
	send_exit(p);
	if (g.debug)
		say("%s (pid %d) exited with %d", p->id, p->pid, p->status);
	if (!p->is_main) {
		proc_free(p);
		return;
	}
	/* Like a PID namespace whose init died: everyone else goes. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	/* Let the host read the exit message before the VM is gone. */
	struct pollfd pfd[MAX_CONNS];
	unsigned n = 0;
	for (unsigned i = 0; i < g.nconns; i++)
		if (g.is_ctl[i])
			pfd[n++] = (struct pollfd){ .fd = g.conns[i], .events = POLLIN };
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned open = n; open;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = HANGUP_WAIT_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
					      (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(pfd, n, left) <= 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			char buf[256];
			if (pfd[i].fd >= 0 && pfd[i].revents && read(pfd[i].fd, buf, sizeof(buf)) <= 0) {
				pfd[i].fd = -1;
				open--;
			}
		}
	}
	vm_exit(p->status);
}

static void reap(void)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(g.sig_fd, &si, sizeof(si)) > 0)
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < MAX_PROCS; i++) {
			struct proc *p = g.procs[i];
			if (!p || p->pid != pid)
				continue;
			p->exited = 1;
			p->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			if (p->master < 0 || ign_relay_done(&p->out))
				proc_finish(p);
		}
	}
}

/* ---- messages ---- */

static int msg_string(const struct ign_json *m, const char *key, const char **out,
		      struct ign_err *err)
{
	return ign_json_string(ign_json_member(m, key), key, out, err);
}

static int msg_proc(const struct ign_json *m, struct proc **out, struct ign_err *err)
{
	const char *id;
	int r;

	if ((r = msg_string(m, "id", &id, err)) < 0)
		return r;
	if (!(*out = proc_find(id)))
		return ign_err_setx(err, ESRCH, "no process `%s`", id);
	return 0;
}

/* The main process's hostname, network and mounts. */
static int container_setup(const struct spec *s, struct ign_err *err)
{
	int r;

	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return ign_err_set(err, errno, "hostname `%s`", s->hostname);
	if ((r = net_setup(&s->net, err)) < 0)
		return r;
	return rootfs_mount_all(s, err);
}

/*
 * The program must be there when the process is created (as runc checks at
 * create): "executable file not found in $PATH" then reaches the caller of
 * create, which podman turns into 127. What is found (a name with '/' taken
 * from the process's cwd, else the first executable file on its PATH) is
 * what the process will run.
 */
static int find_program(const struct spec *s, char exe[4096], struct ign_err *err)
{
	const char *file = s->argv[0], *path = DEFAULT_PATH;
	int saved = ENOENT;

	if (strchr(file, '/')) {
		int n = snprintf(exe, 4096, "%s%s%s", file[0] == '/' ? "" : s->cwd,
				 file[0] == '/' ? "" : "/", file);
		if (n >= 4096)
			return ign_err_setx(err, ENAMETOOLONG, "exec `%s`: path too long", file);
		if (access(exe, X_OK) == 0)
			return 0;
		return ign_err_setx(err, errno, "exec `%s`: %s", file, errno_words(errno));
	}
	for (const char **e = s->envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (const char *d = path; *d;) {
		const char *end = strchrnul(d, ':');
		int n = snprintf(exe, 4096, "%.*s/%s", (int)(end - d), d, file);
		struct stat st;
		if (n > 0 && n < 4096 && stat(exe, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(exe, X_OK) == 0)
				return 0;
			saved = EACCES;
		}
		d = *end ? end + 1 : end;
	}
	return ign_err_setx(err, saved, "exec `%s`: %s", file, saved == ENOENT ?
			    "executable file not found in $PATH" : errno_words(saved));
}

static int do_spawn(int fd, struct ign_json *m, struct ign_err *err)
{
	const char *id;
	int is_main = 0, r;
	unsigned slot;

	if ((r = msg_string(m, "id", &id, err)) < 0)
		goto out;
	if (!*id || strlen(id) > ID_MAX) {
		r = ign_err_setx(err, EINVAL, "id: must be 1 to %d characters", ID_MAX);
		goto out;
	}
	if (proc_find(id)) {
		r = ign_err_setx(err, EEXIST, "a process `%s` exists", id);
		goto out;
	}
	if (ign_json_member(m, "main") &&
	    (r = ign_json_bool(ign_json_member(m, "main"), "main", &is_main, err)) < 0)
		goto out;
	if (is_main && g.have_main) {
		r = ign_err_setx(err, EEXIST, "the guest has a main process already");
		goto out;
	}
	if (!g.root_mounted) {
		r = ign_err_setx(err, EAGAIN, "the root is not mounted yet: send setup first");
		goto out;
	}
	for (slot = 0; slot < MAX_PROCS && g.procs[slot]; slot++)
		;
	if (slot == MAX_PROCS) {
		r = ign_err_setx(err, EMFILE, "over %d processes", MAX_PROCS);
		goto out;
	}
	struct proc *p = calloc(1, sizeof(*p));
	if (!p) {
		r = ign_err_set(err, ENOMEM, "spawn");
		goto out;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->ctl = fd;
	p->is_main = is_main;
	p->master = -1;
	for (int s = 0; s < S_COUNT; s++)
		p->stream[s] = -1;
	r = spec_parse(m, &p->spec, err);
	m = NULL;
	if (r < 0) {
		free(p);
		return r;
	}
	/* As OCI's create: everything but the process is in place before start. */
	if ((is_main && (r = container_setup(p->spec, err)) < 0) ||
	    (r = find_program(p->spec, p->exe, err)) < 0) {
		spec_free(p->spec);
		free(p);
		return r;
	}
	g.procs[slot] = p;
	g.have_main |= is_main;
	return 0;
out:
	ign_json_free(m);
	return r;
}

/* A clone's identity, then its root (on the disk slot the restore filled). */
static int do_setup(const struct ign_json *m, struct ign_err *err)
{
	int root = 0, r;

	if ((r = identity_apply(m, err)) < 0)
		return r;
	if (ign_json_member(m, "root") &&
	    (r = ign_json_bool(ign_json_member(m, "root"), "root", &root, err)) < 0)
		return r;
	if (!root)
		return 0;
	if (g.root_mounted)
		return ign_err_setx(err, EBUSY, "the root is mounted already");
	if ((r = rootfs_setup(&g.rc, err)) < 0)
		return ign_err_wrap(err, "root file system");
	g.root_mounted = 1;
	return 0;
}

/* A control message; returns <0 with err for an error reply. */
static int control(int fd, struct ign_json *m, struct ign_err *err)
{
	const char *type = ign_frame_type(m);
	struct proc *p;
	int64_t v;
	int r;

	if (!strcmp(type, "spawn")) {
		if ((r = do_spawn(fd, m, err)) < 0)
			return r;
		return reply_ok(fd, NULL, 0);
	}
	cleanup_json struct ign_json *msg = m;
	if (!strcmp(type, "setup")) {
		if ((r = do_setup(msg, err)) < 0)
			return r;
		return reply_ok(fd, NULL, 0);
	}
	if (!strcmp(type, "start")) {
		if ((r = msg_proc(msg, &p, err)) < 0)
			return r;
		if (p->pid)
			return ign_err_setx(err, EBUSY, "process `%s` was started already", p->id);
		if ((r = proc_start(p, err)) < 0) {
			/* Gone, main or not: the host may spawn it again. */
			ign_err_wrap(err, "start `%s`", p->id);
			g.have_main &= !p->is_main;
			proc_free(p);
			return r;
		}
		return reply_ok(fd, "pid", p->pid);
	}
	if (!strcmp(type, "adopt")) {
		/* a process whose connection is gone (a warm base saved it running) */
		if ((r = msg_proc(msg, &p, err)) < 0)
			return r;
		if (!p->pid)
			return ign_err_setx(err, EINVAL, "process `%s` was never started", p->id);
		p->ctl = fd;
		return reply_ok(fd, "pid", p->pid);
	}
	if (!strcmp(type, "signal")) {
		int all = 0;
		if ((r = msg_proc(msg, &p, err)) < 0 ||
		    (r = ign_json_int64(ign_json_member(msg, "signal"), "signal", &v, err)) < 0 ||
		    (ign_json_member(msg, "all") &&
		     (r = ign_json_bool(ign_json_member(msg, "all"), "all", &all, err)) < 0))
			return r;
		if (v < 1 || v > 64)
			return ign_err_setx(err, EINVAL, "signal %lld is out of range 1..64",
					    (long long)v);
		if (!p->pid || p->exited)
			return ign_err_setx(err, ESRCH, "process `%s` is not running", p->id);
		/* all: every process of the guest when it is main, else its session. */
		if (kill(all ? (p->is_main ? -1 : -p->pid) : p->pid, v) < 0)
			return ign_err_set(err, errno, "signal `%s`", p->id);
		return reply_ok(fd, NULL, 0);
	}
	if (!strcmp(type, "resize")) {
		int64_t h, w;
		if ((r = msg_proc(msg, &p, err)) < 0 ||
		    (r = ign_json_int64(ign_json_member(msg, "height"), "height", &h, err)) < 0 ||
		    (r = ign_json_int64(ign_json_member(msg, "width"), "width", &w, err)) < 0)
			return r;
		if (p->master < 0)
			return ign_err_setx(err, ENOTTY, "process `%s` has no terminal", p->id);
		struct winsize ws = { .ws_row = h, .ws_col = w };
		if (h < 0 || h > 0xffff || w < 0 || w > 0xffff || ioctl(p->master, TIOCSWINSZ, &ws) < 0)
			return ign_err_setx(err, EINVAL, "bad terminal size %lldx%lld",
					    (long long)h, (long long)w);
		return reply_ok(fd, NULL, 0);
	}
	return ign_err_setx(err, EPROTO, "unknown message type `%s`", type);
}

/* The first message on a new connection: it becomes a control connection or a stream. */
static int first_message(int fd, struct ign_json *m, int *keep, struct ign_err *err)
{
	cleanup_json struct ign_json *msg = m;
	const char *type = ign_frame_type(msg), *name;
	struct proc *p;
	int64_t v;
	int r;

	*keep = 0;
	if (!strcmp(type, "hello")) {
		if ((r = ign_json_int64(ign_json_member(msg, "version"), "version", &v, err)) < 0)
			return r;
		if (v != IGN_AGENT_VERSION)
			return ign_err_setx(err, EPROTO, "protocol version %lld: this ign-init speaks "
					    "version %d", (long long)v, IGN_AGENT_VERSION);
		*keep = 1;
		return reply_ok(fd, "version", IGN_AGENT_VERSION);
	}
	if (strcmp(type, "attach"))
		return ign_err_setx(err, EPROTO, "a connection must begin with hello or attach, "
				    "not `%s`", type);
	if ((r = msg_proc(msg, &p, err)) < 0 || (r = msg_string(msg, "stream", &name, err)) < 0)
		return r;
	int s;
	for (s = 0; s < S_COUNT && strcmp(name, stream_names[s]); s++)
		;
	if (s == S_COUNT)
		return ign_err_setx(err, EINVAL, "stream `%s`: not stdin, stdout, stderr or pty",
				    name);
	if (p->pid || p->stream[s] >= 0)
		return ign_err_setx(err, EBUSY, "process `%s`: %s %s", p->id, name,
				    p->pid ? "cannot be attached once started" : "is attached");
	if ((s == S_PTY) != !!p->spec->terminal)
		return ign_err_setx(err, EINVAL, "process `%s` %s", p->id, p->spec->terminal ?
				    "has a terminal: attach `pty`" : "has no terminal");
	if ((r = reply_ok(fd, NULL, 0)) < 0)
		return r;
	set_read_timeout(fd, 0);  /* the process's stdin waits as long as it likes */
	p->stream[s] = fd;
	return 1;  /* fd is the process's now */
}

static void conn_drop(unsigned i)
{
	int fd = g.conns[i];

	for (unsigned k = 0; k < MAX_PROCS; k++)
		if (g.procs[k] && g.procs[k]->ctl == fd)
			g.procs[k]->ctl = -1;
	g.conns[i] = g.conns[--g.nconns];
	g.is_ctl[i] = g.is_ctl[g.nconns];
}

/* One message on connection i. Returns 0 to keep it, <0 when it was closed or given away. */
static int conn_readable(unsigned i)
{
	struct ign_err err = { 0 };
	struct ign_json *m = NULL;
	int fd = g.conns[i], keep = 1;
	int r = ign_frame_read(fd, &m, &err);

	if (r <= 0) {
		if (r < 0 && g.debug)
			say("connection: %s", err.msg);
		close(fd);
		conn_drop(i);
		return -1;
	}
	if (g.is_ctl[i])
		r = control(fd, m, &err);
	else if ((r = first_message(fd, m, &keep, &err)) > 0) {
		conn_drop(i);  /* a stream now, owned by its process */
		return -1;
	}
	if (r < 0)
		keep = reply_error(fd, err.msg) == 0 && g.is_ctl[i];
	if (!keep) {
		close(fd);
		conn_drop(i);
		return -1;
	}
	g.is_ctl[i] = 1;
	return 0;
}

/*
 * Only the host may talk to ign-init: a connection from any other CID (a
 * workload reaching its own guest through a loopback transport) is refused.
 * A stalled host cannot hold ign-init up for more than a read timeout.
 */
static void accept_conns(void)
{
	struct sockaddr_vm peer;
	socklen_t len = sizeof(peer);
	int fd = accept4(g.listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (g.nconns == MAX_CONNS || peer.svm_cid != VMADDR_CID_HOST) {
		close(fd);
		return;
	}
	set_read_timeout(fd, CONN_TIMEOUT_S);
	g.conns[g.nconns] = fd;
	g.is_ctl[g.nconns++] = 0;
}

/* ---- the loop ---- */

static void serve(void)
{
	for (;;) {
		struct pollfd pfd[2 + MAX_CONNS + 2 * MAX_PROCS];
		struct proc *who[2 * MAX_PROCS];
		unsigned n = 0, nrel = 0;

		pfd[n++] = (struct pollfd){ .fd = g.listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = g.sig_fd, .events = POLLIN };
		for (unsigned i = 0; i < g.nconns; i++)
			pfd[n++] = (struct pollfd){ .fd = g.conns[i], .events = POLLIN };
		unsigned rel0 = n;
		for (unsigned i = 0; i < MAX_PROCS; i++) {
			struct proc *p = g.procs[i];
			if (!p || p->master < 0 || !p->pid)
				continue;
			ign_relay_pollfd(&p->out, &pfd[n++]);  /* master -> host */
			ign_relay_pollfd(&p->in, &pfd[n++]);   /* host -> master */
			who[nrel++] = p;
		}
		if (poll(pfd, n, -1) < 0)
			continue;
		for (unsigned k = 0; k < nrel; k++) {
			struct proc *p = who[k];
			if (pfd[rel0 + 2 * k].revents)
				ign_relay_step(&p->out);
			if (pfd[rel0 + 2 * k + 1].revents)
				ign_relay_step(&p->in);
			if (p->exited && ign_relay_done(&p->out))
				proc_finish(p);
		}
		if (pfd[1].revents)
			reap();
		/* Connections last: a message may close or hand over any of them. */
		int ready[MAX_CONNS];
		unsigned nready = 0;
		for (unsigned k = 2; k < rel0; k++)
			if (pfd[k].revents)
				ready[nready++] = pfd[k].fd;
		for (unsigned k = 0; k < nready; k++)
			for (unsigned i = 0; i < g.nconns; i++)
				if (g.conns[i] == ready[k]) {
					conn_readable(i);
					break;
				}
		if (pfd[0].revents)
			accept_conns();
	}
}

/* ---- boot ---- */

static void cmdline(struct root_config *rc)
{
	static char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
		if (!strcmp(tok, "ign.root=wait"))
			g.root_wait = 1;
		else if (!strncmp(tok, "ign.root=", 9))
			rc->device = tok + 9;
		else if (!strncmp(tok, "ign.rootfstype=", 15))
			rc->fstype = tok + 15;
		else if (!strncmp(tok, "ign.upper_size=", 15))
			rc->upper_size = tok + 15;
		else if (!strcmp(tok, "ign.debug"))
			g.debug = 1;
	}
}

static void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

static __attribute__((noreturn)) void fatal(const char *what, const struct ign_err *err)
{
	say("%s: %s", what, err->msg);
	vm_exit(255);
}

int main(void)
{
	struct ign_err err = { 0 };

	if (getpid() != 1) {
		fprintf(stderr, "ign-init: runs as PID 1 of an ign-runtime guest only\n");
		return 1;
	}
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	int con = open("/dev/console", O_RDWR | O_NOCTTY);
	for (int i = 0; con >= 0 && i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(con, i);
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	cmdline(&g.rc);

	if (!g.root_wait) {
		if (rootfs_setup(&g.rc, &err) < 0)
			fatal("root file system", &err);
		g.root_mounted = 1;
	}
	loopback_up();

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	g.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = IGN_AGENT_PORT };
	g.listen_fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g.sig_fd < 0 || g.listen_fd < 0 ||
	    bind(g.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(g.listen_fd, 16) < 0) {
		ign_err_set(&err, errno, "vsock port %d (is a virtio-vsock device attached?)",
			    IGN_AGENT_PORT);
		fatal("agent", &err);
	}
	if (ioperm(IGN_PORT_BOOT_MARKER, 1, 1) == 0)
		outb(IGN_BOOT_MARKER_VALUE, IGN_PORT_BOOT_MARKER);
	if (g.debug)
		say("ready on vsock port %d", IGN_AGENT_PORT);
	serve();
}
