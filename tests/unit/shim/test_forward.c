// SPDX-License-Identifier: Apache-2.0
/*
 * Published ports (shim/forward.c): the annotation's forms, and bytes both
 * ways between a TCP client on 127.0.0.1 and a stand-in for the VMM's vsock
 * socket (the "CONNECT <port>" handshake, then an upper-casing echo).
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
