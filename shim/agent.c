// SPDX-License-Identifier: Apache-2.0
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/frame.h"

long long ign_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int ign_vsock_dial(const char *vsock, unsigned port, int nonblock, struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char line[24];
	int n;

	if (strlen(vsock) >= sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "vsock socket path `%s` is too long", vsock);
	strcpy(a.sun_path, vsock);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				      (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return ign_err_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN)
			return ign_err_set(err, EAGAIN, "connect `%s` (is the VM running?): %s", vsock,
					   strerror(errno));
		return ign_err_set(err, errno, "connect `%s`", vsock);
	}
	/* a few bytes into a fresh local socket: they fit, blocking or not */
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (ign_write_all(fd, line, n) < 0)
		return ign_err_set(err, EAGAIN, "`%s`: send CONNECT", vsock);
	return steal_fd(&fd);
}

int ign_vsock_answer(const char *vsock, unsigned port, const char *line, size_t n,
		     struct ign_err *err)
{
	if (n < IGN_VSOCK_ANSWER_MAX && (n == 0 || line[n - 1] != '\n'))  /* closed first */
		return ign_err_setx(err, EAGAIN, "guest port %u refused the connection "
				    "(nothing listening yet?)", port);
	if (n < 4 || strncmp(line, "OK ", 3) || line[n - 1] != '\n')
		return ign_err_setx(err, EPROTO, "`%s`: unexpected answer `%.*s` to CONNECT", vsock,
				    (int)n, line);
	return 0;
}

int ign_vsock_read_answer(int fd, char *line, size_t *n)
{
	/* Byte by byte: what follows the line belongs to the stream. */
	while (*n < IGN_VSOCK_ANSWER_MAX && (*n == 0 || line[*n - 1] != '\n')) {
		ssize_t r = ign_read_full(fd, line + *n, 1);
		if (r <= 0)
			return (int)r;  /* 0: EOF; -errno */
		(*n)++;
	}
	return 0;
}

/* One attempt. Returns the fd, -EAGAIN when worth retrying, or another -errno. */
static int connect_once(const char *vsock, unsigned port, int io_ms, struct ign_err *err)
{
	char line[IGN_VSOCK_ANSWER_MAX];
	size_t n = 0;

	cleanup_close int fd = ign_vsock_dial(vsock, port, 0, err);
	if (fd < 0)
		return fd;
	set_timeout(fd, io_ms);
	int r = ign_vsock_read_answer(fd, line, &n);
	if (r == -EAGAIN)  /* SO_RCVTIMEO */
		return ign_err_setx(err, EAGAIN, "guest port %u did not answer in %d ms", port,
				    io_ms);
	if (r < 0)
		return ign_err_setx(err, EAGAIN, "guest port %u: %s", port, strerror(-r));
	r = ign_vsock_answer(vsock, port, line, n, err);
	return r < 0 ? r : steal_fd(&fd);
}

int ign_vsock_connect(const char *vsock, unsigned port, int timeout_ms, int *out,
		      struct ign_err *err)
{
	long long deadline = ign_now_ms() + timeout_ms;
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	for (;;) {
		int fd = connect_once(vsock, port, timeout_ms < 10000 ? timeout_ms : 10000, err);
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (fd != -EAGAIN || ign_now_ms() >= deadline)
			return fd == -EAGAIN ? ign_err_wrap(err, "gave up after %d ms", timeout_ms)
					     : fd;
		nanosleep(&pause, NULL);
	}
}

/* Reads frames until one that is not an exit event. */
static int read_reply(struct ign_agent *a, struct ign_json **out, struct ign_err *err)
{
	for (;;) {
		struct pollfd p = { .fd = a->ctl, .events = POLLIN };
		int r = poll(&p, 1, a->io_timeout_ms);
		if (r == 0)
			return ign_err_setx(err, ETIMEDOUT, "no answer from the guest in %d ms",
					    a->io_timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		struct ign_json *m;
		if ((r = ign_frame_read(a->ctl, &m, err)) == 0)
			return ign_err_setx(err, ECONNRESET, "the guest closed the control "
					    "connection");
		if (r < 0)
			return r;
		if (strcmp(ign_frame_type(m), "exit")) {
			if (out) {
				*out = m;
				return 0;
			}
			r = ign_err_setx(err, EPROTO, "unexpected `%s` from the guest",
					 ign_frame_type(m));
			ign_json_free(m);
			return r;
		}
		const char *id;
		int64_t status;
		if (ign_json_string(ign_json_member(m, "id"), "id", &id, NULL) == 0 &&
		    ign_json_int64(ign_json_member(m, "status"), "status", &status, NULL) == 0 &&
		    a->nexits < IGN_AGENT_EXITS_MAX) {
			snprintf(a->exits[a->nexits].id, sizeof(a->exits[0].id), "%s", id);
			a->exits[a->nexits++].status = status;
		}
		ign_json_free(m);
		if (!out)
			return 0;
	}
}

static int check_reply(struct ign_json *m, struct ign_json **reply, struct ign_err *err)
{
	const char *type = ign_frame_type(m), *msg = "(no message)";

	if (!strcmp(type, "ok")) {
		if (reply)
			*reply = m;
		else
			ign_json_free(m);
		return 0;
	}
	if (!strcmp(type, "error")) {
		ign_json_string(ign_json_member(m, "message"), "message", &msg, NULL);
		int r = ign_err_setx(err, EREMOTEIO, "guest: %s", msg);
		ign_json_free(m);
		return r;
	}
	int r = ign_err_setx(err, EPROTO, "unexpected `%s` from the guest", type);
	ign_json_free(m);
	return r;
}

static int request(int fd, int timeout_ms, const char *json, struct ign_json **reply,
		   struct ign_err *err)
{
	struct ign_agent tmp = { .ctl = fd, .io_timeout_ms = timeout_ms };
	struct ign_json *m;
	int r;

	if ((r = ign_frame_write(fd, json, err)) < 0 || (r = read_reply(&tmp, &m, err)) < 0)
		return r;
	return check_reply(m, reply, err);
}

int ign_agent_open(struct ign_agent *a, const char *vsock, int timeout_ms, struct ign_err *err)
{
	char hello[64];
	int r;

	*a = (struct ign_agent){ .ctl = -1, .vsock = vsock,
				 .io_timeout_ms = IGN_AGENT_IO_TIMEOUT_MS };
	if ((r = ign_vsock_connect(vsock, IGN_AGENT_PORT, timeout_ms, &a->ctl, err)) < 0)
		return r;
	snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"version\":%d}", IGN_AGENT_VERSION);
	if ((r = request(a->ctl, a->io_timeout_ms, hello, NULL, err)) < 0) {
		ign_agent_close(a);
		return ign_err_wrap(err, "hello");
	}
	return 0;
}

void ign_agent_close(struct ign_agent *a)
{
	if (a->ctl >= 0)
		close(a->ctl);
	a->ctl = -1;
}

int ign_agent_call(struct ign_agent *a, const char *json, struct ign_json **reply,
		   struct ign_err *err)
{
	struct ign_json *m;
	int r;

	if ((r = ign_frame_write(a->ctl, json, err)) < 0 || (r = read_reply(a, &m, err)) < 0)
		return r;
	return check_reply(m, reply, err);
}

int ign_agent_attach(struct ign_agent *a, const char *id, const char *stream, int *out,
		     struct ign_err *err)
{
	cleanup_close int fd = -1;
	int r;

	/* ign-init listens already; a guest slowed down (a loaded host) gets a few tries */
	if ((r = ign_vsock_connect(a->vsock, IGN_AGENT_PORT, 3 * a->io_timeout_ms, &fd, err)) < 0)
		return ign_err_wrap(err, "attach %s", stream);
	struct ign_jgen *g = ign_jgen_new();
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type");
	ign_jgen_string(g, "attach");
	ign_jgen_string(g, "id");
	ign_jgen_string(g, id);
	ign_jgen_string(g, "stream");
	ign_jgen_string(g, stream);
	ign_jgen_map_close(g);
	cleanup_free char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	if ((r = request(fd, a->io_timeout_ms, text, NULL, err)) < 0)
		return ign_err_wrap(err, "attach %s", stream);
	/* From here on the stream is the process's; reads wait as long as it runs. */
	set_timeout(fd, 0);
	*out = steal_fd(&fd);
	return 0;
}

int ign_agent_read_event(struct ign_agent *a, struct ign_err *err)
{
	return read_reply(a, NULL, err);
}

int ign_agent_wait_exit(struct ign_agent *a, const char *id, int timeout_ms, int *status,
			struct ign_err *err)
{
	int io = a->io_timeout_ms, r = 0;

	a->io_timeout_ms = timeout_ms;  /* one wait, however many events come */
	while (!ign_agent_exited(a, id, status) && (r = read_reply(a, NULL, err)) == 0)
		;
	a->io_timeout_ms = io;
	return r;
}

int ign_agent_exited(const struct ign_agent *a, const char *id, int *status)
{
	for (unsigned i = 0; i < a->nexits; i++)
		if (!strcmp(a->exits[i].id, id)) {
			*status = a->exits[i].status;
			return 1;
		}
	return 0;
}
