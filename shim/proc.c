// SPDX-License-Identifier: Apache-2.0
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ign/cleanup.h"

void ign_proc_flags_json(struct ign_jgen *g, const struct ign_proc_flags *f)
{
	ign_jgen_string(g, "terminal"), ign_jgen_bool(g, f->tty);
	ign_jgen_string(g, "user");
	ign_jgen_map_open(g);
	ign_jgen_string(g, "uid"), ign_jgen_int(g, f->uid);
	ign_jgen_string(g, "gid"), ign_jgen_int(g, f->gid);
	ign_jgen_map_close(g);
	ign_jgen_string(g, "args");
	ign_jgen_array_open(g);
	for (char *const *a = f->args; *a; a++)
		ign_jgen_string(g, *a);
	ign_jgen_array_close(g);
	ign_jgen_string(g, "env");
	ign_jgen_array_open(g);
	ign_jgen_string(g, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (f->tty)
		ign_jgen_string(g, "TERM=xterm");
	for (unsigned i = 0; i < f->nenv; i++)
		ign_jgen_string(g, f->env[i]);
	ign_jgen_array_close(g);
	ign_jgen_string(g, "cwd"), ign_jgen_string(g, f->cwd ? f->cwd : "/");
}

char *ign_proc_spawn_message(const char *id, int is_main, const struct ign_json *process,
			     const struct ign_json *extra)
{
	struct ign_jgen *g = ign_jgen_new();

	if (!g)
		return NULL;
	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, "spawn");
	ign_jgen_string(g, "id"), ign_jgen_string(g, id);
	ign_jgen_string(g, "main"), ign_jgen_bool(g, is_main);
	ign_jgen_string(g, "process"), ign_jgen_node(g, process);
	for (size_t i = 0; i < ign_json_len(extra); i++) {
		ign_jgen_string(g, ign_json_key_at(extra, i));
		ign_jgen_node(g, ign_json_index(extra, i));
	}
	ign_jgen_map_close(g);
	char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	return text;
}

static int call(struct ign_proc *p, const char *type, const char *k1, long long v1,
		const char *k2, long long v2, int all, struct ign_json **reply, struct ign_err *err)
{
	struct ign_jgen *g = ign_jgen_new();

	ign_jgen_map_open(g);
	ign_jgen_string(g, "type"), ign_jgen_string(g, type);
	ign_jgen_string(g, "id"), ign_jgen_string(g, p->id);
	if (k1)
		ign_jgen_string(g, k1), ign_jgen_int(g, v1);
	if (k2)
		ign_jgen_string(g, k2), ign_jgen_int(g, v2);
	if (all)
		ign_jgen_string(g, "all"), ign_jgen_bool(g, 1);
	ign_jgen_map_close(g);
	cleanup_free char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	if (!text)
		return ign_err_setx(err, EINVAL, "%s: cannot encode the request", type);
	return ign_agent_call(p->agent, text, reply, err);
}

int ign_proc_spawn(struct ign_agent *a, const char *id, int tty, const char *spawn_json,
		   struct ign_proc *p, struct ign_err *err)
{
	static const char *names[3] = { "stdin", "stdout", "stderr" };
	int r;

	*p = (struct ign_proc){ .agent = a, .tty = tty, .streams = { -1, -1, -1 } };
	snprintf(p->id, sizeof(p->id), "%s", id);
	if ((r = ign_agent_call(a, spawn_json, NULL, err)) < 0)
		return r;
	if (tty) {
		if ((r = ign_agent_attach(a, id, "pty", &p->streams[0], err)) < 0)
			return r;
		p->streams[1] = p->streams[0];
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if ((r = ign_agent_attach(a, id, names[i], &p->streams[i], err)) < 0)
			return r;
	return 0;
}

int ign_proc_spawn_detached(struct ign_agent *a, const char *id, const char *spawn_json,
			    struct ign_proc *p, struct ign_err *err)
{
	*p = (struct ign_proc){ .agent = a, .streams = { -1, -1, -1 } };
	snprintf(p->id, sizeof(p->id), "%s", id);
	return ign_agent_call(a, spawn_json, NULL, err);
}

int ign_proc_start(struct ign_proc *p, int in, int out, int errfd, int *guest_pid,
		   struct ign_err *err)
{
	cleanup_json struct ign_json *reply = NULL;
	int64_t pid = 0;
	int r;

	for (int i = 0; i < 3; i++)
		if (p->streams[i] >= 0)
			fcntl(p->streams[i], F_SETFL, O_NONBLOCK);
	if ((r = call(p, "start", NULL, 0, NULL, 0, 0, &reply, err)) < 0)
		return r;
	ign_json_int64(ign_json_member(reply, "pid"), "pid", &pid, NULL);
	if (guest_pid)
		*guest_pid = (int)pid;
	/* With no host stdin the guest's sees its end at once (closed, not left open). */
	ign_relay_init(&p->rel[0], in, p->streams[0], !p->tty);
	if (in < 0) {
		p->rel[0].eof = 1;
		if (!p->tty)
			shutdown(p->streams[0], SHUT_WR);
	}
	ign_relay_init(&p->rel[1], p->streams[1], out, 0);
	ign_relay_init(&p->rel[2], p->tty ? -1 : p->streams[2], errfd, 0);
	if (p->tty)
		p->rel[2].eof = 1;
	p->started = 1;
	return 0;
}

int ign_proc_signal(struct ign_proc *p, int sig, int all, struct ign_err *err)
{
	return call(p, "signal", "signal", sig, NULL, 0, all, NULL, err);
}

int ign_proc_resize(struct ign_proc *p, unsigned rows, unsigned cols, struct ign_err *err)
{
	return call(p, "resize", "height", rows, "width", cols, 0, NULL, err);
}

void ign_proc_pollfds(const struct ign_proc *p, struct pollfd *fds)
{
	for (int i = 0; i < 3; i++) {
		if (p->started && !(i == 0 && p->rel[0].eof && !p->rel[0].len))
			ign_relay_pollfd(&p->rel[i], &fds[i]);
		else
			fds[i] = (struct pollfd){ .fd = -1 };
	}
}

void ign_proc_step(struct ign_proc *p, const struct pollfd *fds)
{
	for (int i = 0; i < 3; i++)
		if (p->started && fds[i].fd >= 0 && fds[i].revents)
			ign_relay_step(&p->rel[i]);
}

void ign_proc_check_exit(struct ign_proc *p)
{
	if (!p->exited)
		p->exited = ign_agent_exited(p->agent, p->id, &p->status);
}

int ign_proc_done(const struct ign_proc *p)
{
	return p->exited && (!p->started || (ign_relay_done(&p->rel[1]) && ign_relay_done(&p->rel[2])));
}

void ign_proc_close(struct ign_proc *p)
{
	for (int i = 0; i < 3; i++)
		if (p->streams[i] >= 0 && (i != 1 || !p->tty))
			close(p->streams[i]);
	p->streams[0] = p->streams[1] = p->streams[2] = -1;
}
