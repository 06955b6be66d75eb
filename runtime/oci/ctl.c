// SPDX-License-Identifier: Apache-2.0
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/frame.h"
#include "ign/json.h"

#define CTL_TIMEOUT_S 60

/* A connection to the shim's control socket in dir (the fd), or -errno. */
static int ctl_connect(const char *dir, struct ign_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", dir, IGN_CTL_SOCK) >=
	    sizeof(a.sun_path))
		return ign_err_setx(err, ENAMETOOLONG, "`%s/%s`: path too long for a socket", dir,
				    IGN_CTL_SOCK);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ign_err_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return ign_err_set(err, errno, "the container's shim does not answer at `%s`",
				   a.sun_path);
	return steal_fd(&fd);
}

int ign_ctl_peer_pid(const char *dir)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	cleanup_close int fd = ctl_connect(dir, NULL);

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	return cred.pid > 0 ? cred.pid : -ESRCH;
}

int ign_ctl_call(const char *dir, const char *type, int sig, int all, struct ign_err *err)
{
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	cleanup_json struct ign_json *reply = NULL;
	const char *msg;
	char req[128];
	int r;

	cleanup_close int fd = ctl_connect(dir, err);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "{\"type\":\"%s\",\"signal\":%d,\"all\":%s}", type, sig,
		 all ? "true" : "false");
	if ((r = ign_frame_write(fd, req, err)) < 0)
		return ign_err_wrap(err, "shim");
	if ((r = ign_frame_read(fd, &reply, err)) < 0)
		return ign_err_wrap(err, "shim");
	if (r == 0)
		return ign_err_setx(err, ECONNRESET, "the shim closed the connection (did the VM "
				    "stop?)");
	if (!strcmp(ign_frame_type(reply), "ok"))
		return 0;
	if (ign_json_string(ign_json_member(reply, "message"), "message", &msg, NULL) < 0)
		msg = "unknown error";
	return ign_err_setx(err, EIO, "%s", msg);
}
