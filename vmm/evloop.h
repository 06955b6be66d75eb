/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM's I/O thread: an epoll loop over device file descriptors (queue
 * ioeventfds, backends). Handlers run on that one thread, never on a vCPU.
 */
#ifndef IGN_EVLOOP_H
#define IGN_EVLOOP_H

#include <stdint.h>

#include "ign/err.h"

struct evloop;
typedef void (*evloop_cb)(void *opaque, uint32_t events);

int evloop_create(struct evloop **out, struct ign_err *err);
/* Watches fd for events (EPOLLIN...); cb runs on the loop's thread. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_cb cb, void *opaque,
	       struct ign_err *err);
/* Runs handlers until stop_fd becomes readable. */
void evloop_run(struct evloop *l, int stop_fd);
void evloop_destroy(struct evloop *l);

#endif
