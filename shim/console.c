// SPDX-License-Identifier: Apache-2.0
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ign/cleanup.h"

static int send_fd(const char *path, int fd, const char *name, struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };

	if (strlen(path) >= sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "console socket `%s`: path too long", path);
	strcpy(a.sun_path, path);
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ign_err_set(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return ign_err_set(err, errno, "console socket `%s`", path);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		return ign_err_set(err, errno, "send the terminal to `%s`", path);
	return 0;
}

int ign_console_open(const char *socket_path, unsigned rows, unsigned cols, int *slave,
		     struct ign_err *err)
{
	cleanup_close int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[64];
	struct termios t;
	int r;

	if (master < 0)
		return ign_err_set(err, errno, "open a pty");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)))
		return ign_err_set(err, errno, "set up the pty");
	cleanup_close int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return ign_err_set(err, errno, "open `%s`", name);
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		ioctl(master, TIOCSWINSZ, &ws);
	}
	if ((r = send_fd(socket_path, master, name, err)) < 0)
		return r;
	*slave = steal_fd(&s);
	return 0;
}
