// SPDX-License-Identifier: Apache-2.0
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ign/log.h"

#define EVLOOP_MAX 64

struct handler {
	int fd;
	evloop_cb cb;
	void *opaque;
};

struct evloop {
	int epfd;
	struct handler h[EVLOOP_MAX];
};

int evloop_create(struct evloop **out, struct ign_err *err)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (!l)
		return ign_err_set(err, ENOMEM, "event loop");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;
		free(l);
		return ign_err_set(err, e, "epoll_create1");
	}
	*out = l;
	return 0;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_cb cb, void *opaque,
	       struct ign_err *err)
{
	struct handler *h = NULL;

	for (unsigned i = 0; i < EVLOOP_MAX && !h; i++)
		if (!l->h[i].cb)
			h = &l->h[i];
	if (!h)
		return ign_err_setx(err, ENOSPC, "event loop: more than %d sources", EVLOOP_MAX);
	*h = (struct handler){ fd, cb, opaque };
	struct epoll_event ev = { .events = events, .data.ptr = h };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		h->cb = NULL;
		return ign_err_set(err, errno, "epoll_ctl add fd %d", fd);
	}
	return 0;
}

void evloop_run(struct evloop *l, int stop_fd)
{
	struct epoll_event ev[16];
	struct epoll_event stop = { .events = EPOLLIN, .data.ptr = NULL };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, stop_fd, &stop) < 0) {
		log_warn_errno(errno, "event loop: watch stop fd");
		return;
	}
	for (;;) {
		int n = epoll_wait(l->epfd, ev, 16, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn_errno(errno, "epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct handler *h = ev[i].data.ptr;
			if (!h)
				goto out;
			if (h->cb)
				h->cb(h->opaque, ev[i].events);
		}
	}
out:
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, stop_fd, NULL);
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}
