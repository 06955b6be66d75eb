// SPDX-License-Identifier: Apache-2.0
/*
 * ign-shim: one per container, started by `ign-runtime create` and left as
 * the pid in --pid-file (a descendant of the caller: conmon reaps it). It runs
 * the VM in its own threads (the VMM library), asks ign-init to prepare the
 * main process, and then serves the control socket: start, kill. It relays
 * the caller's stdio (or a pty handed over --console-socket) to the
 * workload, forwards the signals it gets into the guest, keeps state.json
 * true, and exits with the workload's status (128+N after signal N).
 *
 * The VM is a clone of the warm base of the container's profile (warm.c,
 * docs/warm-bases.md), or cold-booted with the annotation io.ign.boot=cold.
 *
 * usage (by ign-runtime only): ign-shim --dir STATE_DIR --kernel K --initrd I
 *   --cache DIR --bases DIR [--console-socket S] [--log F] [--log-format text|json]
 *   [--debug]
 * fd 3: the ready pipe: "ok" or an error message, then closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "console.h"
#include "ctl.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/frame.h"
#include "ign/log.h"
#include "ign/vmm.h"
#include "mounts.h"
#include "netns.h"
#include "proc.h"
#include "rootimg.h"
#include "state.h"
#include "warm.h"

#define READY_FD 3
#define AGENT_TIMEOUT_MS 120000
#define TAP_NAME "ign0"
#define SEED_BYTES 32

struct opts {
	const char *dir, *kernel, *initrd, *cache, *bases, *console_socket, *log, *log_format;
	int debug;
};

static struct shim {
	struct opts o;
	char dir[PATH_MAX];
	struct ign_state st;
	struct ign_oci_config cfg;
	struct ign_vm *vm;
	pthread_t vm_thread;
	int vm_started, vm_done_fd, vm_status, vm_rc;
	struct ign_agent agent;
	struct ign_proc main;
	int slave;               /* host pty slave when process.terminal */
	int listen_fd, sig_fd;
	int stdio_flags[3];
} s = { .slave = -1, .listen_fd = -1, .sig_fd = -1, .vm_done_fd = -1 };

static void *vm_thread(void *arg)
{
	struct ign_err err = { 0 };
	uint64_t one = 1;

	(void)arg;
	pthread_setname_np(pthread_self(), "vm");
	s.vm_rc = ign_vm_run(s.vm, &s.vm_status, &err);
	if (s.vm_rc < 0)
		log_err("the VM failed: %s", err.msg);
	if (write(s.vm_done_fd, &one, sizeof(one)) < 0)
		log_err("eventfd: %m");
	return NULL;
}

static int parse(int argc, char **argv, struct opts *o, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' }, { "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' }, { "cache", required_argument, NULL, 'c' },
		{ "bases", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' }, { "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'D' }, { 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cache = optarg; break;
		case 'b': o->bases = optarg; break;
		case 's': o->console_socket = optarg; break;
		case 'l': o->log = optarg; break;
		case 'f': o->log_format = optarg; break;
		case 'D': o->debug = 1; break;
		default: return ign_err_setx(err, EINVAL, "ign-shim is started by ign-runtime only");
		}
	}
	if (!o->dir || !o->kernel || !o->initrd || !o->cache || !o->bases)
		return ign_err_setx(err, EINVAL, "ign-shim is started by ign-runtime only");
	return 0;
}

static void save_state(void)
{
	struct ign_err err = { 0 };

	if (ign_state_write(s.dir, &s.st, &err) < 0)
		log_warn("state: %s", err.msg);
}

/* The main process's spawn message: process, hostname, mounts and network. */
static int spawn_message(const struct ign_netif *nif, struct ign_volumes *vols, char **out,
			 struct ign_err *err)
{
	struct ign_jgen *g = ign_jgen_new();
	cleanup_json struct ign_json *extra = NULL;
	int r;

	ign_jgen_map_open(g);
	if (s.cfg.hostname)
		ign_jgen_string(g, "hostname"), ign_jgen_string(g, s.cfg.hostname);
	ign_jgen_string(g, "mounts");
	if ((r = ign_mounts_translate(&s.cfg, g, vols, err)) < 0) {
		ign_jgen_free(g);
		return r;
	}
	if (nif->ifindex) {
		ign_jgen_string(g, "network");
		ign_jgen_map_open(g);
		ign_jgen_string(g, "addresses");
		ign_jgen_array_open(g);
		if (nif->naddrs)
			ign_jgen_string(g, nif->addrs[0]);
		ign_jgen_array_close(g);
		ign_jgen_string(g, "gateway"), ign_jgen_string(g, nif->gateway);
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nif->mac[0], nif->mac[1],
			 nif->mac[2], nif->mac[3], nif->mac[4], nif->mac[5]);
		ign_jgen_string(g, "mac"), ign_jgen_string(g, mac);
		ign_jgen_string(g, "mtu"), ign_jgen_int(g, nif->mtu);
		ign_jgen_map_close(g);
	}
	ign_jgen_map_close(g);
	cleanup_free char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	if (!text || ign_json_parse(text, &extra, err) < 0)
		return ign_err_setx(err, EINVAL, "cannot encode the spawn message");
	if (!(*out = ign_proc_spawn_message("main", 1, s.cfg.process, extra)))
		return ign_err_setx(err, EINVAL, "cannot encode the spawn message");
	return 0;
}

/*
 * The guest's identity: a seed of our own for its RNG and the wall clock
 * (a clone resumes with its base's), then, in a clone, its root: the disk
 * slot the restore filled.
 */
static int setup_guest(int mount_root, struct ign_err *err)
{
	uint8_t seed[SEED_BYTES];
	char hex[2 * SEED_BYTES + 1], msg[256];
	struct timespec now;

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return ign_err_set(err, errno, "getrandom");
	for (unsigned i = 0; i < SEED_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", seed[i]);
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(msg, sizeof(msg), "{\"type\":\"setup\",\"seed\":\"%s\",\"time\":{\"sec\":%lld,"
		 "\"nsec\":%ld},\"root\":%s}", hex, (long long)now.tv_sec, now.tv_nsec,
		 mount_root ? "true" : "false");
	explicit_bzero(seed, sizeof(seed));
	int r = ign_agent_call(&s.agent, msg, NULL, err);
	explicit_bzero(msg, sizeof(msg));
	return r < 0 ? ign_err_wrap(err, "guest setup") : 0;
}

/* process.terminal: a host pty whose master goes to the caller's console socket. */
static int open_console(struct ign_err *err)
{
	const struct ign_json *size = ign_json_member(s.cfg.process, "consoleSize");
	int64_t rows = 0, cols = 0;
	int r;

	ign_json_int64(ign_json_member(size, "height"), "", &rows, NULL);
	ign_json_int64(ign_json_member(size, "width"), "", &cols, NULL);
	if (!s.o.console_socket)
		return ign_err_setx(err, EINVAL, "process.terminal is set but there is no "
				    "--console-socket to send the terminal to");
	if ((r = ign_console_open(s.o.console_socket, rows, cols, &s.slave, err)) < 0)
		return r;
	/* The slave as our controlling terminal: resizes by the caller arrive as SIGWINCH. */
	setsid();
	ioctl(s.slave, TIOCSCTTY, 0);
	return 0;
}

static int setup(struct ign_err *err)
{
	struct ign_netif nif = { 0 };
	struct ign_volumes vols = { 0 };
	char rootfs[PATH_MAX], vsock[PATH_MAX + 16], console[PATH_MAX + 16], base[PATH_MAX];
	cleanup_free char *image = NULL, *spawn = NULL;
	cleanup_close int console_fd = -1;
	int cached, warm, r;

	if ((r = ign_state_read(s.dir, &s.st, err)) < 0)
		return r;
	if ((r = ign_oci_load(s.st.bundle, &s.cfg, err)) < 0)
		return r;
	if (s.cfg.netns) {
		if ((r = ign_netns_enter(s.cfg.netns, err)) < 0 || (r = ign_netns_find(&nif, err)) < 0)
			return r;
		log_debug("network: %s, %s via %s", nif.ifindex ? nif.name : "none",
			  nif.naddrs ? nif.addrs[0] : "-", nif.gateway);
	}
	snprintf(rootfs, sizeof(rootfs), "%s", s.st.rootfs);
	struct ign_rootimg img = { .rootfs = rootfs, .cache_dir = s.o.cache, .fs = IGN_FS_EROFS,
				   .progress_fd = -1 };
	if ((r = ign_rootimg_get(&img, &image, &cached, err)) < 0)
		return ign_err_wrap(err, "root image");
	log_debug("root image %s (%s)", image, cached ? "cached" : "built");
	if ((r = spawn_message(&nif, &vols, &spawn, err)) < 0)
		return r;

	snprintf(vsock, sizeof(vsock), "%s/%s", s.dir, IGN_VSOCK_SOCK);
	snprintf(console, sizeof(console), "%s/console.log", s.dir);
	console_fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct ign_vm_config vc = {
		.vcpus = s.cfg.vcpus, .mem_mib = s.cfg.mem_mib, .console_in = -1,
		.console_out = console_fd, .vsock_path = vsock, .vsock_cid = 3,
	};
	if ((r = ign_seccomp_mode_from_env(&vc.seccomp, err)) < 0)
		return r;
	const char *boot = ign_oci_annotation(&s.cfg, "io.ign.boot");
	warm = !boot || strcmp(boot, "cold");
	if (warm) {
		struct ign_base_profile prof = { .kernel = s.o.kernel, .initrd = s.o.initrd,
						 .vcpus = s.cfg.vcpus, .mem_mib = s.cfg.mem_mib };
		int built;
		if ((r = ign_warm_base(s.o.bases, &prof, console_fd, vc.seccomp, base, &built,
					 err)) < 0)
			return r;
		log_debug("warm base %s%s", base, built ? " (built now)" : "");
		ign_warm_slots(&vc);  /* every slot empty; ours are filled below */
		vc.restore_from = base;
	} else {
		vc.kernel = s.o.kernel;
		vc.initrd = s.o.initrd;
		vc.cmdline = IGN_GUEST_CMDLINE;
		vc.rng = 1;
		vc.ndisks = 1;
		vc.nshares = vols.nshares;
	}
	vc.disks[0] = (struct ign_vm_disk){ .path = image, .readonly = 1 };
	memcpy(vc.shares, vols.shares, vols.nshares * sizeof(vols.shares[0]));  /* same tags */
	if (nif.ifindex) {
		vc.net_tap = TAP_NAME;
		memcpy(vc.net_mac, nif.mac, 6);
	}
	if ((r = ign_vm_create(&vc, &s.vm, err)) < 0)
		return warm ? ign_err_wrap(err, "restore of warm base `%s` (`ign-runtime bases drop "
					   "NAME` has the next create build it anew)", base) : r;
	if (nif.ifindex && (r = ign_netns_redirect(&nif, TAP_NAME, err)) < 0)
		return r;
	if (s.cfg.terminal && (r = open_console(err)) < 0)
		return r;
	/*
	 * All set up on the host: from here on, the VMM's mount namespace with
	 * only the state directory in it, and its privileges (docs/security.md).
	 */
	const char *keep[] = { s.dir };
	char jail[PATH_MAX + 8];
	snprintf(jail, sizeof(jail), "%s/jail", s.dir);
	if ((r = ign_vm_jail(jail, keep, 1, err)) < 0 ||
	    (r = ign_vm_drop_privileges(&vc, err)) < 0)
		return r;
	if ((s.vm_done_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		return ign_err_set(err, errno, "eventfd");
	if ((r = -pthread_create(&s.vm_thread, NULL, vm_thread, NULL)) < 0)
		return ign_err_set(err, -r, "VM thread");
	s.vm_started = 1;
	/* the VM thread started without it: this thread's own allowlist */
	if ((r = ign_seccomp_apply(vc.seccomp, IGN_THREAD_SHIM, err)) < 0)
		return r;
	if ((r = ign_agent_open(&s.agent, vsock, AGENT_TIMEOUT_MS, err)) < 0)
		return ign_err_wrap(err, "the guest's agent did not come up (console: %s)", console);
	if ((r = setup_guest(warm, err)) < 0)
		return r;
	if ((r = ign_proc_spawn(&s.agent, "main", s.cfg.terminal, spawn, &s.main, err)) < 0)
		return r;
	return 0;
}

static int listen_ctl(struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", s.dir, IGN_CTL_SOCK) >=
	    sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "control socket path too long");
	unlink(a.sun_path);
	s.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.listen_fd < 0 || bind(s.listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(s.listen_fd, 8) < 0)
		return ign_err_set(err, errno, "control socket `%s`", a.sun_path);
	return 0;
}

static __attribute__((noreturn)) void finish(int status)
{
	struct pollfd p = { .fd = s.vm_done_fd, .events = POLLIN };

	s.st.status = IGN_STOPPED;
	s.st.exit_status = status;
	save_state();
	ign_agent_close(&s.agent);  /* ign-init powers the guest off once we hang up */
	if (s.vm_started)
		poll(&p, 1, 3000);
	for (int i = 0; i < 3; i++)
		if (s.stdio_flags[i] >= 0)
			fcntl(i, F_SETFL, s.stdio_flags[i]);
	log_debug("exit %d", status);
	_exit(status);
}

static void start_main(struct ign_err *err, int *r)
{
	int in = s.slave >= 0 ? s.slave : STDIN_FILENO;
	int out = s.slave >= 0 ? s.slave : STDOUT_FILENO;
	int errfd = s.slave >= 0 ? -1 : STDERR_FILENO;
	int gpid = 0;

	if (s.st.status != IGN_CREATED) {
		*r = ign_err_setx(err, EINVAL, "cannot start a container that is %s",
				  ign_status_name(s.st.status));
		return;
	}
	if ((*r = ign_proc_start(&s.main, in, out, errfd, &gpid, err)) < 0) {
		/* it never ran: the container is over, with the status a shell gives */
		s.main.exited = 1;
		s.main.status = strstr(err->msg, "not found") || strstr(err->msg, "no such file") ?
				127 : 126;
		return;
	}
	s.st.status = IGN_RUNNING;
	save_state();
	log_debug("started, guest pid %d", gpid);
}

static void kill_main(int sig, int all, struct ign_err *err, int *r)
{
	if (s.st.status == IGN_CREATED) {
		/* never started: the container ends as if its process was killed */
		finish(128 + sig);
	}
	*r = ign_proc_signal(&s.main, sig, all, err);
}

static void serve_client(void)
{
	cleanup_close int c = accept4(s.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	cleanup_json struct ign_json *m = NULL;
	struct ign_err err = { 0 };
	struct timeval tv = { 10, 0 };
	int r;

	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ign_frame_read(c, &m, &err) <= 0)
		return;
	const char *type = ign_frame_type(m);
	int64_t sig = SIGTERM;
	int all = 0;
	ign_json_int64(ign_json_member(m, "signal"), "signal", &sig, NULL);
	ign_json_bool(ign_json_member(m, "all"), "all", &all, NULL);
	if (!strcmp(type, "start"))
		start_main(&err, &r);
	else if (!strcmp(type, "kill") && sig > 0 && sig < 65)
		kill_main((int)sig, all, &err, &r);
	else
		r = ign_err_setx(&err, EINVAL, "unknown request `%s`", type);
	cleanup_free char *reply = r < 0 ? ign_json_object3("type", "error", "message", err.msg,
							     "id", s.st.id)
					 : strdup("{\"type\":\"ok\"}");
	if (reply)
		ign_frame_write(c, reply, &err);
}

static void on_signal(void)
{
	struct signalfd_siginfo si;
	struct ign_err err = { 0 };
	int r;

	if (read(s.sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH) {
		struct winsize ws;
		if (s.slave >= 0 && s.main.started && ioctl(s.slave, TIOCGWINSZ, &ws) == 0)
			ign_proc_resize(&s.main, ws.ws_row, ws.ws_col, &err);
		return;
	}
	kill_main((int)si.ssi_signo, 0, &err, &r);
}

/*
 * The VM has ended after the workload: what its streams still hold is in our
 * sockets already; copy it out (for at most a second) and go.
 */
static __attribute__((noreturn)) void drain_and_finish(void)
{
	struct pollfd p[IGN_PROC_NFDS];

	for (int round = 0; round < 10 && !ign_proc_done(&s.main); round++) {
		ign_proc_pollfds(&s.main, p);
		if (poll(p, IGN_PROC_NFDS, 100) <= 0)
			break;
		ign_proc_step(&s.main, p);
	}
	finish(s.main.status);
}

static int loop(void)
{
	struct ign_err err = { 0 };

	for (;;) {
		ign_proc_check_exit(&s.main);
		if (ign_proc_done(&s.main))
			finish(s.main.status);
		if (s.main.exited && s.agent.ctl >= 0)
			ign_agent_close(&s.agent);  /* the guest powers off once we hang up */
		struct pollfd p[5 + IGN_PROC_NFDS] = {
			{ .fd = s.listen_fd, .events = POLLIN },
			{ .fd = s.main.exited ? -1 : s.agent.ctl, .events = POLLIN },
			{ .fd = s.vm_done_fd, .events = POLLIN },
			{ .fd = s.sig_fd, .events = POLLIN },
		};
		ign_proc_pollfds(&s.main, &p[4]);
		if (poll(p, 4 + IGN_PROC_NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			serve_client();
		if (p[1].revents && ign_agent_read_event(&s.agent, &err) < 0) {
			log_warn("agent: %s", err.msg);
			/* the guest is gone or broke the protocol: wait for the VM to end */
			close(s.agent.ctl);
			s.agent.ctl = -1;
		}
		if (p[2].revents) {
			ign_proc_check_exit(&s.main);
			if (!s.main.exited) {
				log_warn("the VM ended (status %d) before the workload's exit event",
					 s.vm_status);
				finish(s.vm_rc < 0 ? 255 : s.vm_status);
			}
			drain_and_finish();
		}
		if (p[3].revents)
			on_signal();
		ign_proc_step(&s.main, &p[4]);
	}
}

int main(int argc, char **argv)
{
	struct ign_err err = { 0 };
	cleanup_fclose FILE *log = NULL;
	sigset_t mask;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if ((r = parse(argc, argv, &s.o, &err)) < 0) {
		fprintf(stderr, "ign-shim: %s\n", err.msg);
		return 125;
	}
	/* absolute: the jail binds it at its own path (a relative --root gives a relative dir) */
	if (!realpath(s.o.dir, s.dir))
		snprintf(s.dir, sizeof(s.dir), "%s", s.o.dir);
	/* Our own messages never go to stderr: that is the workload's. */
	log = fopen(s.o.log ? s.o.log : "/dev/null", "ae");
	if (log)
		ign_seccomp_report_fd(fileno(log));
	ign_log_init("ign-shim", log, s.o.log_format && !strcmp(s.o.log_format, "json") ?
		     IGN_LOG_JSON : IGN_LOG_TEXT, s.o.debug ? IGN_LOG_DEBUG : IGN_LOG_WARN);
	sigemptyset(&mask);
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGPIPE &&
		    sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE &&
		    sig != SIGTRAP && sig != SIGABRT && sig != SIGSYS)
			sigaddset(&mask, sig);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);  /* before any thread: all inherit it */
	s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (int i = 0; i < 3; i++)
		s.stdio_flags[i] = fcntl(i, F_GETFL);
	if ((r = setup(&err)) == 0)
		r = listen_ctl(&err);
	if (r == 0) {
		s.st.status = IGN_CREATED;
		s.st.pid = getpid();
		s.st.pid_start = ign_proc_start_time(getpid());
		save_state();
	}
	/*
	 * Ours to live on from here: the parent-death signal `create` set goes
	 * first. If create died meanwhile, "ok" finds no reader and we end.
	 */
	if (r == 0 && prctl(PR_SET_PDEATHSIG, 0) < 0)
		r = ign_err_set(&err, errno, "clear the parent-death signal");
	const char *ready = r < 0 ? err.msg : "ok";
	if (ign_write_all(READY_FD, ready, strlen(ready)) < 0 || r < 0) {
		log_err("%s", err.msg);
		_exit(r < 0 ? 125 : 0);
	}
	close(READY_FD);
	for (int i = 0; i < 3; i++)
		if (s.stdio_flags[i] >= 0 && !isatty(i))
			fcntl(i, F_SETFL, s.stdio_flags[i] | O_NONBLOCK);
	r = loop();
	log_err("shim loop: %s", strerror(-r));
	finish(255);
}
