// SPDX-License-Identifier: Apache-2.0
/*
 * consock: the caller's end of --console-socket, as conmon has it, for the
 * runtime tests. Listens on SOCKET, takes one pty master (SCM_RIGHTS), sets
 * ROWSxCOLS on it if asked, then copies the master's output to stdout and
 * stdin to the master until the master hangs up.
 *   consock SOCKET [ROWS COLS]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char name[256] = "", ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, sizeof(name) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	int s, c, master = -1;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: consock SOCKET [ROWS COLS]\n");
		return 2;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0 ||
	    (c = accept(s, NULL, NULL)) < 0 || recvmsg(c, &msg, 0) < 0) {
		perror("consock");
		return 1;
	}
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	if (h && h->cmsg_type == SCM_RIGHTS)
		memcpy(&master, CMSG_DATA(h), sizeof(int));
	if (master < 0 || !isatty(master)) {
		fprintf(stderr, "consock: no terminal received\n");
		return 1;
	}
	fprintf(stderr, "consock: got %s\n", name);
	if (argc == 4) {
		struct winsize ws = { .ws_row = atoi(argv[2]), .ws_col = atoi(argv[3]) };
		ioctl(master, TIOCSWINSZ, &ws);
	}
	for (int in_open = 1;;) {
		struct pollfd p[2] = { { master, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
		char buf[4096];
		ssize_t n;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents) {
			n = read(master, buf, sizeof(buf));
			if (n <= 0)
				return 0;  /* EIO: every slave closed */
			if (write(1, buf, n) != n)
				return 1;
		}
		if (p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				in_open = 0;
			else if (write(master, buf, n) != n)
				return 1;
		}
	}
}
