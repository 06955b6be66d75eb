/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.x, 2.7): the one place that reads the guest's
 * rings. Everything the guest wrote is untrusted: ring addresses are checked
 * once when the queue is made ready, and every avail index, descriptor index,
 * chain length, address and length is checked on each pop, on a private copy
 * of the descriptor (the guest may change it concurrently). A device only
 * ever sees an iovec array of host pointers that lie wholly in guest RAM.
 */
#ifndef IGN_VIRTIO_QUEUE_H
#define IGN_VIRTIO_QUEUE_H

#include <stdint.h>
#include <sys/uio.h>

#include "ign/err.h"
#include "mem.h"

#define VIRTQ_MAX_SEGS  64    /* longest descriptor chain accepted */
#define VIRTQ_MAX_CHAIN_BYTES (64u << 20)

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct virtq {
	/* set by the driver through the transport */
	uint16_t max_size;   /* QueueNumMax, set by the device */
	uint16_t size;       /* QueueNum */
	int ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* resolved by virtq_activate() */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;  /* next avail ring slot to read */
	uint16_t used_idx;    /* next used ring slot to fill */
};

/* One request: iov[0, n_out) are device-readable, iov[n_out, n_out + n_in) writable. */
struct virtq_chain {
	uint16_t head;
	unsigned n_out, n_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Checks size and ring placement, then maps the rings. */
int virtq_activate(struct virtq *q, const struct guest_mem *m, struct ign_err *err);
void virtq_reset(struct virtq *q);

/*
 * Takes the next available chain. Returns 1 with *c filled, 0 when the ring
 * is empty, <0 with err set when the guest's ring is malformed (the caller
 * then puts its device in NEEDS_RESET; the queue is left where it was).
 */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
	      struct ign_err *err);

/* Puts back the chain virtq_pop() just returned (nothing pushed since). */
void virtq_unpop(struct virtq *q);

/* Returns a chain to the guest with `len` bytes written into its writable part. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Whether the guest wants an interrupt for what was pushed (no EVENT_IDX). */
int virtq_wants_interrupt(const struct virtq *q);

/*
 * Helpers over a chain's iovecs. They never touch guest memory outside the
 * chain: copies stop at the chain's end and return how much they moved.
 */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
		    size_t len);
/* Copies the part of iov[0,n) starting at byte `skip` and at most `len` long into out[]. */
unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
		   struct iovec *out, unsigned out_max);

#endif
