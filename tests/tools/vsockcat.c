// SPDX-License-Identifier: Apache-2.0
/*
 * vsockcat: stdin to a stream socket, the socket to stdout, for the VM tests
 * (busybox has no vsock). Static, so it runs in the test guest and in L1.
 *   vsockcat vsock-connect CID PORT   (in the guest: to the host, CID 2)
 *   vsockcat vsock-listen PORT        (in the guest: serve one connection)
 *   vsockcat unix-listen PATH         (on the host: serve one connection)
 * The exit status is 0 when both directions ended cleanly.
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "vsockcat: %s: %s\n", what, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *p, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= w;
	}
	return 0;
}

static int shovel(int s)
{
	static char buf[1 << 16];
	int in_open = 1, out_open = 1;

	while (out_open) {
		struct pollfd p[2] = { { in_open ? 0 : -1, POLLIN, 0 }, { s, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return fail("poll");
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = 0;
				shutdown(s, SHUT_WR);
			} else if (write_all(s, buf, n) < 0) {
				return fail("send");
			}
		}
		if (p[1].revents) {
			ssize_t n = read(s, buf, sizeof(buf));
			if (n < 0)
				return fail("receive");
			if (n == 0)
				out_open = 0;
			else if (write_all(1, buf, n) < 0)
				return fail("stdout");
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int s, c;

	if (argc == 4 && !strcmp(argv[1], "vsock-connect")) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = atoi(argv[2]),
					 .svm_port = atoi(argv[3]) };
		if ((s = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0 ||
		    connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return fail("connect");
		return shovel(s);
	}
	if (argc == 3 && !strcmp(argv[1], "vsock-listen")) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
					 .svm_port = atoi(argv[2]) };
		if ((s = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0 ||
		    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0 ||
		    (c = accept(s, NULL, NULL)) < 0)
			return fail("listen");
		return shovel(c);
	}
	if (argc == 3 && !strcmp(argv[1], "unix-listen")) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[2]);
		unlink(argv[2]);
		if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
			return fail("listen");
		if ((c = accept(s, NULL, NULL)) < 0)
			return fail("accept");
		unlink(argv[2]);
		return shovel(c);
	}
	fprintf(stderr, "usage: vsockcat vsock-connect CID PORT | vsock-listen PORT | "
		"unix-listen PATH\n");
	return 2;
}
