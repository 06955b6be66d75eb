// SPDX-License-Identifier: Apache-2.0
/*
 * ign-shim: one per container, started by `ign-runtime create` and left as
 * the pid in --pid-file (a descendant of the caller: conmon reaps it). It runs
 * the VM in its own threads (the VMM library), asks ign-init to prepare the
 * main process, and then serves the control socket: start, kill, reset. It relays
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
#include "forward.h"
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
#define RESET_AGENT_TIMEOUT_MS 30000
#define READY_TIMEOUT_MS (900 * 1000)
#define APP_SNAPSHOT_TRIES 100       /* 50 ms apart: the guest's vsock ends closing */
#define TAP_NAME "ign0"
#define GUEST_RESET_GAP_MS 1000      /* a guest's reset requests, at most one a second */
#define SEED_BYTES 32

struct opts {
	const char *dir, *kernel, *initrd, *cache, *bases, *console_socket, *log, *log_format;
	int debug;
};

static struct shim {
	struct opts o;
	char dir[PATH_MAX], vsock[PATH_MAX + 16];
	struct ign_state st;
	struct ign_oci_config cfg;
	struct ign_vm *vm;
	pthread_t vm_thread;
	int vm_started, vm_done_fd, vm_status, vm_rc;
	char vm_err[256];         /* why ign_vm_run failed, when it did */
	struct ign_agent agent;
	struct ign_proc main;
	char *spawn;             /* the main process's spawn message: again at a reset */
	int warm;                /* a clone of a warm base (not io.ign.boot=cold) */
	/*
	 * An application base (io.ign.ready): app_restored, this VM is a clone
	 * of it, the main process already running; app_build, this create
	 * makes it (under app_lock) from a clone of the profile's base.
	 */
	const char *ready;
	int app_restored, app_build, app_lock;
	int adopted;             /* main runs already, with the guest's stdio: start only says so */
	char app_name[IGN_BASE_NAME_MAX];
	unsigned resets;         /* a reset replaces the agent's and streams' fds */
	int slave;               /* host pty slave when process.terminal */
	int listen_fd, sig_fd;
	int stdio_flags[3];
	struct ign_forwards fwd;  /* published guest ports (io.ign.ports) */
	int guest_reset_fd;       /* io.ign.reset-port: the guest asks for a reset */
	struct timespec guest_reset_at;
} s = { .slave = -1, .listen_fd = -1, .sig_fd = -1, .vm_done_fd = -1, .app_lock = -1,
	.guest_reset_fd = -1 };

static void *vm_thread(void *arg)
{
	struct ign_err err = { 0 };
	uint64_t one = 1;

	(void)arg;
	pthread_setname_np(pthread_self(), "vm");
	s.vm_rc = ign_vm_run(s.vm, &s.vm_status, &err);
	if (s.vm_rc < 0) {
		log_err("the VM failed: %s", err.msg);
		snprintf(s.vm_err, sizeof(s.vm_err), "%.255s", err.msg);
	}
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

/*
 * io.ign.ready: the bundle's own base, saved with its process running once
 * the ready command succeeds (docs/warm-bases.md). Found: this VM restores
 * it. Not yet: it is locked, and this create builds it (app_build) from a
 * clone of the profile's base. Only for what a snapshot can hold: no
 * network namespace, no terminal, no bind mounts (their contents would be
 * the base's).
 */
static int app_base_find(const struct ign_base_profile *prof, const char *image_id,
			 char base[PATH_MAX], struct ign_err *err)
{
	char profile[IGN_BASE_NAME_MAX], path[PATH_MAX + 16];
	cleanup_free char *what = NULL;
	size_t len, ilen = strlen(image_id);
	int r;

	for (unsigned i = 0; i < s.cfg.nmounts; i++)
		if (ign_mount_is_bind(&s.cfg.mounts[i]))
			return ign_err_setx(err, EINVAL, "annotation io.ign.ready: bind mount `%s`: an "
					    "application base holds no bind mounts",
					    s.cfg.mounts[i].destination);
	if (s.cfg.netns || s.cfg.terminal)
		return ign_err_setx(err, EINVAL, "annotation io.ign.ready: an application base is "
				    "made only for a process with no terminal and no network "
				    "namespace path");
	snprintf(path, sizeof(path), "%s/config.json", s.st.bundle);
	if ((r = ign_read_file(path, 1 << 20, &what, &len, err)) < 0)
		return r;
	char *both = realloc(what, len + ilen);  /* config.json, then the image's identity */
	if (!both)
		return ign_err_set(err, ENOMEM, "application base");
	what = both;
	memcpy(what + len, image_id, ilen);
	if ((r = ign_base_name(prof, profile, err)) < 0 ||
	    (r = ign_base_app_name(profile, what, len + ilen, s.app_name, err)) < 0)
		return r;
	if (ign_base_snapshot(s.o.bases, s.app_name, base))
		return s.app_restored = 1, 0;
	if ((s.app_lock = ign_base_lock(s.o.bases, s.app_name, err)) < 0)
		return s.app_lock;
	if (ign_base_snapshot(s.o.bases, s.app_name, base)) {  /* built while we waited */
		close(s.app_lock);
		s.app_lock = -1;
		return s.app_restored = 1, 0;
	}
	s.app_build = 1;
	return 0;
}

/* The main process of an application base's clone: running, its stdio the guest's. */
static int adopt_main(struct ign_err *err)
{
	s.main = (struct ign_proc){ .agent = &s.agent, .streams = { -1, -1, -1 }, .started = 1 };
	snprintf(s.main.id, sizeof(s.main.id), "main");
	for (int i = 0; i < 3; i++)
		ign_relay_init(&s.main.rel[i], -1, -1, 0);
	s.adopted = 1;
	return ign_agent_call(&s.agent, "{\"type\":\"adopt\",\"id\":\"main\"}", NULL, err);
}

/* The main process started at once, with the guest's stdio: an application base's. */
static int start_detached_main(struct ign_err *err)
{
	int r;

	if ((r = ign_proc_spawn_detached(&s.agent, "main", s.spawn, &s.main, err)) < 0 ||
	    (r = ign_proc_start(&s.main, -1, -1, -1, NULL, err)) < 0)
		return ign_err_wrap(err, "the main process");
	s.adopted = 1;
	return 0;
}

/* The guest console's last non-empty line (at most n - 1 bytes of it), in buf. */
static const char *console_last_line(char *buf, size_t n)
{
	char path[PATH_MAX + 16];
	cleanup_close int fd = -1;
	struct stat st;
	ssize_t k = 0;

	snprintf(path, sizeof(path), "%s/console.log", s.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		off_t at = st.st_size > (off_t)n - 1 ? st.st_size - ((off_t)n - 1) : 0;
		k = pread(fd, buf, n - 1, at);
	}
	buf[k > 0 ? k : 0] = 0;
	char *end = buf + strlen(buf);
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = 0;
	char *nl = strrchr(buf, '\n');
	return nl ? nl + 1 : buf;
}

/*
 * Builds the application base from this VM: the main process runs with the
 * guest's stdio, the ready command is run until it succeeds once, then the
 * shim hangs up (a snapshot holds no connection), saves the VM into a build
 * directory and commits it. This VM goes on as the container, adopting main.
 */
static int app_base_build(const struct ign_base_profile *prof, struct ign_err *err)
{
	char build[PATH_MAX], snap[PATH_MAX + 16];
	struct ign_proc probe;
	int status = -1, r;

	if ((r = start_detached_main(err)) < 0)
		return ign_err_wrap(err, "application base");
	/* the ready command by sh, its output on the guest's console: the container's console.log */
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "exec >/dev/console 2>&1; %s", s.ready);
	char *const args[] = { "/bin/sh", "-c", cmd, NULL };
	struct ign_proc_flags f = { .args = args };
	struct ign_jgen *g = ign_jgen_new();
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, "spawn");
	ign_jgen_string(g, "id"), ign_jgen_string(g, "ready");
	ign_jgen_string(g, "process");
	ign_jgen_map_open(g);
	ign_proc_flags_json(g, &f);
	ign_jgen_map_close(g);
	ign_jgen_map_close(g);
	cleanup_free char *spawn = ign_jgen_finish(g);
	ign_jgen_free(g);
	if (!spawn)
		return ign_err_set(err, ENOMEM, "application base");
	r = ign_proc_spawn_detached(&s.agent, "ready", spawn, &probe, err);
	if (r < 0 || (r = ign_proc_start(&probe, -1, -1, -1, NULL, err)) < 0)
		return ign_err_wrap(err, "io.ign.ready `%s`", s.ready);
	/* a second at a time: a VM that dies meanwhile ends the wait at once */
	for (int waited = 0;; waited += 1000) {
		struct pollfd done = { .fd = s.vm_done_fd, .events = POLLIN };
		if ((r = ign_agent_wait_exit(&s.agent, "ready", 1000, &status, err)) == 0)
			break;
		if (r != -ETIMEDOUT || waited >= READY_TIMEOUT_MS)
			return ign_err_wrap(err, "io.ign.ready `%s`", s.ready);
		char last[160];
		if (poll(&done, 1, 0) == 1)  /* a failed create removes its logs: say it here */
			return ign_err_setx(err, EIO, "the VM ended while io.ign.ready `%s` waited "
					    "(%s%s); the console's last line: `%s`", s.ready,
					    s.vm_rc < 0 ? "" : "it powered off", s.vm_err,
					    console_last_line(last, sizeof(last)));
	}
	if (status != 0)
		return ign_err_setx(err, EIO, "io.ign.ready `%s` exited with %d: the process was not "
				    "ready (see the container's console.log)", s.ready, status);
	ign_agent_close(&s.agent);
	if ((r = ign_base_build_dir(s.o.bases, s.app_name, build, err)) < 0)
		return r;
	snprintf(snap, sizeof(snap), "%s/snapshot", build);
	for (int i = 0; i < APP_SNAPSHOT_TRIES; i++) {
		struct timespec pause = { 0, 50 * 1000 * 1000 };
		if ((r = ign_vm_snapshot(s.vm, snap, err)) != -EBUSY)
			break;
		nanosleep(&pause, NULL);  /* the guest is still closing our connections */
	}
	if (r == 0)
		r = ign_base_commit(s.o.bases, s.app_name, build, prof, err);
	if (r < 0) {
		ign_rm_rf(build);
		return ign_err_wrap(err, "application base %s", s.app_name);
	}
	close(s.app_lock);
	s.app_lock = -1;
	log_debug("application base %s saved", s.app_name);
	if ((r = ign_agent_open(&s.agent, s.vsock, RESET_AGENT_TIMEOUT_MS, err)) < 0 ||
	    (r = setup_guest(0, err)) < 0)
		return r;
	return adopt_main(err);
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

/* A listening AF_UNIX socket at a's path (a stale socket file there goes first). */
static int listen_at(const struct sockaddr_un *a, int flags, int *fd, const char *what,
		     struct ign_err *err)
{
	unlink(a->sun_path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (*fd < 0 || bind(*fd, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(*fd, 8) < 0)
		return ign_err_set(err, errno, "%s `%s`", what, a->sun_path);
	return 0;
}

/*
 * io.ign.reset-port=P: a guest connection to the host's vsock port P asks
 * for a reset; the VMM joins it to the socket `<vsock>_P`, which we listen
 * on. Only the VM's own state is at stake, so its guest may ask: the
 * browser's key chord does (docs/browser.md).
 */
static int guest_reset_listen(const char *port, struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (!*port || *end || p == 0 || p > 65535)
		return ign_err_setx(err, EINVAL, "annotation io.ign.reset-port `%s`: want a vsock "
				    "port, 1 to 65535", port);
	if (!s.warm)
		return ign_err_setx(err, EINVAL, "annotation io.ign.reset-port: a cold-booted "
				    "container (io.ign.boot=cold) cannot be reset");
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s_%lu", s.vsock, p) >=
	    sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "io.ign.reset-port: socket path `%s_%lu` "
				    "too long (use a shorter --root)", s.vsock, p);
	return listen_at(&a, SOCK_NONBLOCK, &s.guest_reset_fd, "io.ign.reset-port", err);
}

/*
 * The root disk: the image named by io.ign.root-image (relative to the
 * bundle), as it is; else the image of root.path's tree from the image cache,
 * built on a miss. *id: what an application base is keyed on (the file's
 * identity; a cached image's path is its content key).
 */
static int root_image(char **image, char id[IGN_FILE_ID_MAX], struct ign_err *err)
{
	const char *given = ign_oci_annotation(&s.cfg, "io.ign.root-image");
	enum ign_fs fs;
	int cached, r;

	if (given) {
		char path[2 * PATH_MAX];
		if (given[0] == '/')
			snprintf(path, sizeof(path), "%s", given);
		else
			snprintf(path, sizeof(path), "%s/%s", s.st.bundle, given);
		if ((r = ign_rootimg_ready(path, &fs, err)) < 0 ||
		    (r = ign_file_id("root image", path, id, IGN_FILE_ID_MAX, err)) < 0)
			return ign_err_wrap(err, "annotation io.ign.root-image");
		if (!(*image = strdup(path)))
			return ign_err_set(err, ENOMEM, "root image");
		log_debug("root image %s (%s, given)", path, ign_fs_name(fs));
		return 0;
	}
	struct ign_rootimg img = { .rootfs = s.st.rootfs, .cache_dir = s.o.cache,
				   .fs = IGN_FS_EROFS, .progress_fd = -1 };
	if ((r = ign_rootimg_get(&img, image, &cached, err)) < 0)
		return ign_err_wrap(err, "root image");
	snprintf(id, IGN_FILE_ID_MAX, "%s", *image);
	log_debug("root image %s (%s)", *image, cached ? "cached" : "built");
	return 0;
}

static int setup(struct ign_err *err)
{
	struct ign_netif nif = { 0 };
	struct ign_volumes vols = { 0 };
	char console[PATH_MAX + 16], base[PATH_MAX], image_id[IGN_FILE_ID_MAX];
	cleanup_free char *image = NULL;
	cleanup_close int console_fd = -1;
	int r;

	if ((r = ign_state_read(s.dir, &s.st, err)) < 0)
		return r;
	if ((r = ign_oci_load(s.st.bundle, &s.cfg, err)) < 0)
		return r;
	/* published ports listen on the host's localhost: before the container's netns */
	const char *ports = ign_oci_annotation(&s.cfg, "io.ign.ports");
	snprintf(s.vsock, sizeof(s.vsock), "%s/%s", s.dir, IGN_VSOCK_SOCK);
	s.fwd.vsock = s.vsock;
	if (ports) {
		char path[PATH_MAX + 8];
		snprintf(path, sizeof(path), "%s/ports", s.dir);
		if ((r = ign_forwards_parse(ports, &s.fwd, err)) < 0 ||
		    (r = ign_forwards_listen(&s.fwd, err)) < 0 ||
		    (r = ign_forwards_publish(&s.fwd, path, err)) < 0)
			return r;
	}
	if (s.cfg.netns) {
		if ((r = ign_netns_enter(s.cfg.netns, err)) < 0 || (r = ign_netns_find(&nif, err)) < 0)
			return r;
		log_debug("network: %s, %s via %s", nif.ifindex ? nif.name : "none",
			  nif.naddrs ? nif.addrs[0] : "-", nif.gateway);
	}
	if ((r = root_image(&image, image_id, err)) < 0)
		return r;
	if ((r = spawn_message(&nif, &vols, &s.spawn, err)) < 0)
		return r;

	snprintf(console, sizeof(console), "%s/console.log", s.dir);
	console_fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct ign_vm_config vc = {
		.vcpus = s.cfg.vcpus, .mem_mib = s.cfg.mem_mib, .console_in = -1,
		.console_out = console_fd, .vsock_path = s.vsock, .vsock_cid = 3,
	};
	if ((r = ign_seccomp_mode_from_env(&vc.seccomp, err)) < 0)
		return r;
	const char *boot = ign_oci_annotation(&s.cfg, "io.ign.boot");
	s.warm = !boot || strcmp(boot, "cold");
	const char *reset_port = ign_oci_annotation(&s.cfg, "io.ign.reset-port");
	if (reset_port && (r = guest_reset_listen(reset_port, err)) < 0)
		return r;
	struct ign_base_profile prof = { .kernel = s.o.kernel, .initrd = s.o.initrd,
					 .vcpus = s.cfg.vcpus, .mem_mib = s.cfg.mem_mib,
					 .cmdline = IGN_GUEST_CMDLINE };
	if (s.warm) {
		int built = 0;
		s.ready = ign_oci_annotation(&s.cfg, "io.ign.ready");
		if (s.ready && (r = app_base_find(&prof, image_id, base, err)) < 0)
			return r;
		/* the application base: what the VM changed, over the profile's base */
		vc.snapshot_diff = s.app_build;
		if (!s.app_restored &&
		    (r = ign_warm_base(s.o.bases, &prof, console_fd, vc.seccomp, base, &built,
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
		return s.warm ? ign_err_wrap(err, "restore of warm base `%s` (`ign-runtime bases drop "
					   "NAME` has the next create build it anew)", base) : r;
	if (nif.ifindex && (r = ign_netns_redirect(&nif, TAP_NAME, err)) < 0)
		return r;
	if (s.cfg.terminal && (r = open_console(err)) < 0)
		return r;
	/*
	 * All set up on the host: from here on, the VMM's mount namespace with
	 * only the state directory in it, and its privileges (docs/security.md).
	 */
	const char *keep[] = { s.dir, s.app_build ? s.o.bases : NULL };  /* where it is saved */
	char jail[PATH_MAX + 8];
	snprintf(jail, sizeof(jail), "%s/jail", s.dir);
	if ((r = ign_vm_jail(jail, keep, 2, err)) < 0 ||
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
	if ((r = ign_agent_open(&s.agent, s.vsock, AGENT_TIMEOUT_MS, err)) < 0)
		return ign_err_wrap(err, "the guest's agent did not come up (console: %s)", console);
	if (s.app_restored)
		return (r = setup_guest(0, err)) < 0 ? r : adopt_main(err);
	if ((r = setup_guest(s.warm, err)) < 0)
		return r;
	if (s.app_build)
		return app_base_build(&prof, err);
	if ((r = ign_proc_spawn(&s.agent, "main", s.cfg.terminal, s.spawn, &s.main, err)) < 0)
		return r;
	return 0;
}

static int listen_ctl(struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", s.dir, IGN_CTL_SOCK) >=
	    sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "control socket path too long");
	return listen_at(&a, 0, &s.listen_fd, "control socket", err);
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

/* The main process runs, relayed to our stdio (or the pty's slave). */
static int run_main(int *gpid, struct ign_err *err)
{
	int in = s.slave >= 0 ? s.slave : STDIN_FILENO;
	int out = s.slave >= 0 ? s.slave : STDOUT_FILENO;
	int errfd = s.slave >= 0 ? -1 : STDERR_FILENO;

	return ign_proc_start(&s.main, in, out, errfd, gpid, err);
}

static void start_main(struct ign_err *err, int *r)
{
	int gpid = 0;

	if (s.st.status != IGN_CREATED) {
		*r = ign_err_setx(err, EINVAL, "cannot start a container that is %s",
				  ign_status_name(s.st.status));
		return;
	}
	if (s.adopted) {  /* it runs already: an application base's (docs/warm-bases.md) */
		s.st.status = IGN_RUNNING;
		save_state();
		*r = 0;
		return;
	}
	if ((*r = run_main(&gpid, err)) < 0) {
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

/* After a rollback: the guest's agent again, and the main process as its base has it. */
static int rejoin(int running, int *gpid, struct ign_err *err)
{
	int r;

	if ((r = ign_agent_open(&s.agent, s.vsock, RESET_AGENT_TIMEOUT_MS, err)) < 0)
		return r;
	if (s.app_restored)  /* the application base: main runs there */
		return (r = setup_guest(0, err)) < 0 ? r : adopt_main(err);
	if ((r = setup_guest(1, err)) < 0)
		return r;
	if (s.app_build)  /* the profile's base: main starts again, with the guest's stdio */
		return start_detached_main(err);
	if ((r = ign_proc_spawn(&s.agent, "main", s.cfg.terminal, s.spawn, &s.main, err)) < 0)
		return r;
	return running ? run_main(gpid, err) : 0;
}

/*
 * Back to the warm base in place (ign_vm_reset: the clone's changed pages
 * dropped, its vsock connections ended), then as a new clone: a new seed and
 * clock, the root mounted, the main process spawned again and, if the
 * container was running, started, on the same host stdio. Anything the
 * workload wrote inside the VM is gone. A failure past the rollback ends the
 * VM, and the container stops (status 255).
 */
static void reset_main(struct ign_err *err, int *r)
{
	int running = s.st.status == IGN_RUNNING, gpid = 0;
	struct timespec t0, t1, t2;

	if ((s.st.status != IGN_CREATED && !running) || s.main.exited) {
		*r = ign_err_setx(err, EINVAL, "cannot reset a container that is %s",
				  s.main.exited ? "exiting" : ign_status_name(s.st.status));
		return;
	}
	if (!s.warm) {
		*r = ign_err_setx(err, EINVAL, "cannot reset a container that was cold-booted "
				  "(io.ign.boot=cold): only a clone of a warm base can");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((*r = ign_vm_reset(s.vm, err)) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s.resets++;
	ign_proc_close(&s.main);
	ign_agent_close(&s.agent);
	if ((*r = rejoin(running, &gpid, err)) < 0) {
		ign_err_wrap(err, "after the reset");
		ign_vm_kill(s.vm);  /* the loop sees the VM end and stops the container */
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	log_debug("reset to the warm base in %.1f ms (rollback %.1f ms)%s, guest pid %d",
		  (t2.tv_sec - t0.tv_sec) * 1e3 + (t2.tv_nsec - t0.tv_nsec) / 1e6,
		  (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		  running ? ", main process started again" : "", gpid);
}

/* The guest asked (every connection waiting is one ask): a reset, at most one a second. */
static void guest_reset(void)
{
	struct ign_err err = { 0 };
	struct timespec now;
	int c, asked = 0, r = 0;

	while ((c = accept4(s.guest_reset_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		close(c);
		asked = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	long since = (now.tv_sec - s.guest_reset_at.tv_sec) * 1000 +
		     (now.tv_nsec - s.guest_reset_at.tv_nsec) / 1000000;
	if (!asked || since < GUEST_RESET_GAP_MS)  /* guest_reset_at starts at boot: 0 */
		return;
	reset_main(&err, &r);
	clock_gettime(CLOCK_MONOTONIC, &s.guest_reset_at);
	if (r < 0)
		log_warn("the guest asked for a reset: %s", err.msg);
	else
		log_debug("the guest asked for a reset");
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
	else if (!strcmp(type, "reset"))
		reset_main(&err, &r);
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
		struct pollfd p[5 + IGN_PROC_NFDS + IGN_FWD_NFDS] = {
			{ .fd = s.listen_fd, .events = POLLIN },
			{ .fd = s.main.exited ? -1 : s.agent.ctl, .events = POLLIN },
			{ .fd = s.vm_done_fd, .events = POLLIN },
			{ .fd = s.sig_fd, .events = POLLIN },
			{ .fd = s.main.exited ? -1 : s.guest_reset_fd, .events = POLLIN },
		};
		ign_proc_pollfds(&s.main, &p[5]);
		ign_forwards_pollfds(&s.fwd, &p[5 + IGN_PROC_NFDS]);
		if (poll(p, sizeof(p) / sizeof(p[0]), ign_forwards_timeout(&s.fwd)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		unsigned resets = s.resets;
		if (p[0].revents)
			serve_client();
		if (p[4].revents)
			guest_reset();
		if (s.resets != resets)
			continue;  /* the other fds polled are gone */
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
		ign_proc_step(&s.main, &p[5]);
		ign_forwards_step(&s.fwd, &p[5 + IGN_PROC_NFDS]);
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
