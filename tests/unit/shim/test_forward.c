// SPDX-License-Identifier: Apache-2.0
/*
 * Published ports (shim/forward.c): the annotation's forms, and bytes both
 * ways between a TCP client on 127.0.0.1 and a stand-in for the VMM's vsock
 * socket (the "CONNECT <port>" handshake, then an upper-casing echo); joins
 * that never block the loop: a slow guest holds up no other connection, a
 * port nobody listens on is dialled again, then given up at the deadline.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"

Test(forward, parse_forms_and_refusals)
{
	struct ign_forwards f = { 0 };
	struct ign_err err = { 0 };

	cr_assert_eq(ign_forwards_parse("5900,9222", &f, &err), 0, "%s", err.msg);
	cr_assert_eq(f.n, 2);
	cr_assert_eq(f.port[0].guest, 5900);
	cr_assert_eq(f.port[0].host, 0, "the host picks");
	cr_assert_eq(f.port[1].guest, 9222);
	cr_assert_eq(ign_forwards_parse("15900:5900", &f, &err), 0, "%s", err.msg);
	cr_assert_eq(f.n, 1);
	cr_assert_eq(f.port[0].host, 15900);
	cr_assert_eq(f.port[0].guest, 5900);
	static const char *bad[] = { "x", "5900,", ",5900", "0", "65536", "1:2:3", ":5900",
				     "5900:", "1,2,3,4,5,6,7,8,9", "59 00", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = 0;
		cr_assert_lt(ign_forwards_parse(bad[i], &f, &err), 0, "`%s` accepted", bad[i]);
		cr_assert(strstr(err.msg, "io.ign.ports"), "`%s`: %s", bad[i], err.msg);
	}
}

static char sock[64];
static int srv_fd;
static unsigned asked_port;

/* The VMM's side: one connection, the handshake, then echo in upper case until EOF. */
static void *fake_vmm(void *arg)
{
	char line[32] = "", buf[256];
	size_t n = 0;

	(void)arg;
	int c = accept(srv_fd, NULL, NULL);
	while (n < sizeof(line) - 1 && read(c, line + n, 1) == 1 && line[n] != '\n')
		n++;
	sscanf(line, "CONNECT %u", &asked_port);
	cr_assert_eq(write(c, "OK 1073741824\n", 14), 14);
	ssize_t k;
	while ((k = read(c, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < k; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		cr_assert_eq(write(c, buf, k), k);
	}
	close(c);
	return NULL;
}

Test(forward, bytes_both_ways_through_a_published_port)
{
	struct ign_forwards f = { .vsock = sock };
	struct ign_err err = { 0 };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	pthread_t t;

	snprintf(sock, sizeof(sock), "/tmp/ign-fwd-%d.sock", (int)getpid());
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	unlink(sock);
	srv_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(srv_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv_fd, 1), 0);
	cr_assert_eq(pthread_create(&t, NULL, fake_vmm, NULL), 0);

	cr_assert_eq(ign_forwards_parse("5900", &f, &err), 0, "%s", err.msg);
	cr_assert_eq(ign_forwards_listen(&f, &err), 0, "%s", err.msg);
	cr_assert_neq(f.port[0].host, 0, "a port was bound");
	char path[80], text[64] = "";
	snprintf(path, sizeof(path), "/tmp/ign-fwd-%d.ports", (int)getpid());
	cr_assert_eq(ign_forwards_publish(&f, path, &err), 0, "%s", err.msg);
	FILE *pf = fopen(path, "r");
	cr_assert(pf && fgets(text, sizeof(text), pf));
	fclose(pf);
	unlink(path);
	char want[64];
	snprintf(want, sizeof(want), "5900 127.0.0.1:%u\n", f.port[0].host);
	cr_assert_str_eq(text, want);

	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(f.port[0].host),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int cl = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cl, (struct sockaddr *)&in, sizeof(in)), 0);
	cr_assert_eq(write(cl, "hello vnc", 9), 9);
	shutdown(cl, SHUT_WR);
	char got[32] = "";
	size_t n = 0;
	struct pollfd p[IGN_FWD_NFDS];
	for (int round = 0; round < 200; round++) {
		ign_forwards_pollfds(&f, p);
		poll(p, IGN_FWD_NFDS, 10);
		ign_forwards_step(&f, p);
		struct pollfd c = { cl, POLLIN, 0 };
		if (poll(&c, 1, 0) == 1) {
			ssize_t k = read(cl, got + n, sizeof(got) - 1 - n);
			if (k <= 0)
				break;
			n += k;
		}
	}
	cr_assert_str_eq(got, "HELLO VNC", "the guest's answer came back");
	cr_assert_eq(asked_port, 5900);
	pthread_join(t, NULL);
	/* both ends closed: the connection's slot is free again */
	ign_forwards_pollfds(&f, p);
	poll(p, IGN_FWD_NFDS, 10);
	ign_forwards_step(&f, p);
	cr_assert_null(f.conn[0]);
	close(cl);
	ign_forwards_close(&f);
	close(srv_fd);
	unlink(sock);
}

/*
 * The joins in steps: a stand-in VMM that follows a script, one letter per
 * connection it accepts: 'r' refuses (closes after the CONNECT line, as the
 * VMM does when nothing listens on the guest port), 'e' answers and echoes
 * in upper case, 'h' holds its connection unanswered until the next one has
 * been echoed, then answers and echoes it, 'w' answers and echoes only
 * after IGN_FWD_CONNECT_MS + 300 ms (a guest too busy to take a connection
 * at once); after the script, it refuses every connection until the socket
 * is shut down.
 */
static const char *script;
static unsigned attempts;

static int vmm_read_connect(int c)
{
	char line[32];
	size_t n = 0;

	while (n < sizeof(line) - 1 && read(c, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = 0;
	__atomic_add_fetch(&attempts, 1, __ATOMIC_SEQ_CST);
	return strncmp(line, "CONNECT ", 8) == 0 ? 0 : -1;
}

static void vmm_echo(int c)
{
	char buf[256];
	ssize_t k;

	cr_assert_eq(write(c, "OK 1073741824\n", 14), 14);
	while ((k = read(c, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < k; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		cr_assert_eq(write(c, buf, k), k);
	}
	close(c);
}

static void *scripted_vmm(void *arg)
{
	int held = -1;

	(void)arg;
	for (const char *s = script;; s += *s != 0) {
		int c = accept(srv_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		if (vmm_read_connect(c) < 0 || *s == 0 || *s == 'r') {
			close(c);
			continue;
		}
		if (*s == 'h') {
			held = c;
			continue;
		}
		if (*s == 'w') {
			const int ms = IGN_FWD_CONNECT_MS + 300;
			nanosleep(&(struct timespec){ ms / 1000, ms % 1000 * 1000000L }, NULL);
		}
		vmm_echo(c);
		if (held >= 0) {
			vmm_echo(held);
			held = -1;
		}
	}
}

static void vmm_start(pthread_t *t, const char *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	script = s;
	attempts = 0;
	snprintf(sock, sizeof(sock), "/tmp/ign-fwd-%d.sock", (int)getpid());
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	unlink(sock);
	srv_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(srv_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv_fd, 8), 0);
	cr_assert_eq(pthread_create(t, NULL, scripted_vmm, NULL), 0);
}

static void vmm_stop(pthread_t t)
{
	shutdown(srv_fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(srv_fd);
	unlink(sock);
}

static void publish(struct ign_forwards *f, const char *ports)
{
	struct ign_err err = { 0 };

	cr_assert_eq(ign_forwards_parse(ports, f, &err), 0, "%s", err.msg);
	cr_assert_eq(ign_forwards_listen(f, &err), 0, "%s", err.msg);
}

/* A client of published port 0 that sends `text` and no more. */
static int client(const struct ign_forwards *f, const char *text)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(f->port[0].host),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int cl = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(connect(cl, (struct sockaddr *)&in, sizeof(in)), 0);
	cr_assert_eq(write(cl, text, strlen(text)), (ssize_t)strlen(text));
	shutdown(cl, SHUT_WR);
	return cl;
}

/*
 * One turn of the shim's loop for the forwarder alone: poll as the shim
 * does, bounded by the forwarder's own timeout (never -1 while a join is
 * pending), then step.
 */
static void turn(struct ign_forwards *f)
{
	struct pollfd p[IGN_FWD_NFDS];
	int t = ign_forwards_timeout(f);

	for (unsigned i = 0; i < IGN_FWD_CONNS; i++)
		if (f->conn[i] && !f->conn[i]->joined)
			cr_assert(t >= 0 && t <= IGN_FWD_ANSWER_MS, "a pending join polls with %d", t);
	ign_forwards_pollfds(f, p);
	poll(p, IGN_FWD_NFDS, t < 0 || t > 20 ? 20 : t);
	ign_forwards_step(f, p);
}

/* Turns until cl has read to its end (or 3 s); what it read, in got. */
static void read_all(struct ign_forwards *f, int cl, char *got, size_t size)
{
	size_t n = 0;

	got[0] = 0;
	for (int round = 0; round < 300; round++) {
		turn(f);
		struct pollfd c = { cl, POLLIN, 0 };
		while (poll(&c, 1, 0) == 1) {
			ssize_t k = read(cl, got + n, size - 1 - n);
			if (k <= 0)
				return;
			got[n += k] = 0;
		}
	}
}

Test(forward, a_guest_slow_to_answer_does_not_hold_up_the_others)
{
	struct ign_forwards f = { .vsock = sock };
	char got[64];
	pthread_t t;

	vmm_start(&t, "he");
	publish(&f, "5900");
	int a = client(&f, "first");
	for (int i = 0; i < 5; i++)
		turn(&f);
	cr_assert_not_null(f.conn[0], "the first connection waits for the guest");
	/* the guest answers the first only after the second is done */
	int b = client(&f, "second");
	read_all(&f, b, got, sizeof(got));
	cr_assert_str_eq(got, "SECOND", "the second went through while the first waited");
	struct pollfd pa = { a, POLLIN, 0 };
	cr_assert_eq(poll(&pa, 1, 0), 0, "the first is still open, with nothing read yet");
	read_all(&f, a, got, sizeof(got));
	cr_assert_str_eq(got, "FIRST", "then the first went through");
	close(a);
	close(b);
	ign_forwards_close(&f);
	vmm_stop(t);
}

Test(forward, a_port_nobody_listens_on_is_dialled_again_then_given_up)
{
	struct ign_forwards f = { .vsock = sock };
	char got[64];
	pthread_t t;

	vmm_start(&t, "rre");
	publish(&f, "9222");
	/* refused twice (the listener is not up yet), then joined */
	int a = client(&f, "late listener");
	read_all(&f, a, got, sizeof(got));
	cr_assert_str_eq(got, "LATE LISTENER");
	cr_assert_eq(attempts, 3);
	close(a);
	/* refused every time: the client's connection is closed at the deadline */
	int b = client(&f, "nobody");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_all(&f, b, got, sizeof(got));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_str_eq(got, "", "nothing came back");
	cr_assert_geq(ms, IGN_FWD_CONNECT_MS - 50, "closed after %ld ms, before the deadline", ms);
	cr_assert_gt(attempts, 5, "dialled again while refused (%u attempts)", attempts);
	for (unsigned i = 0; i < IGN_FWD_CONNS; i++)
		cr_assert_null(f.conn[i], "the slot is free again");
	close(b);
	ign_forwards_close(&f);
	vmm_stop(t);
}

Test(forward, a_guest_slower_than_the_redial_window_is_waited_for)
{
	struct ign_forwards f = { .vsock = sock };
	char got[64];
	pthread_t t;

	vmm_start(&t, "w");
	publish(&f, "5900");
	int a = client(&f, "busy guest");
	read_all(&f, a, got, sizeof(got));
	cr_assert_str_eq(got, "BUSY GUEST", "joined once the guest answered, past %d ms",
			 IGN_FWD_CONNECT_MS);
	cr_assert_eq(attempts, 1, "the dial in flight was waited for, not made again");
	close(a);
	ign_forwards_close(&f);
	vmm_stop(t);
}
