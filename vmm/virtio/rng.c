// SPDX-License-Identifier: Apache-2.0
#include "rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_MAX_PER_REQUEST 4096  /* the guest asks again for more */

static int64_t rng_fill(struct virtio_dev *d, struct virtq_chain *c, struct ign_err *err)
{
	size_t want = c->in_len < RNG_MAX_PER_REQUEST ? c->in_len : RNG_MAX_PER_REQUEST;
	size_t done = 0;

	(void)d, (void)err;
	for (unsigned i = c->n_out; i < c->n_out + c->n_in && done < want; i++) {
		size_t k = c->iov[i].iov_len < want - done ? c->iov[i].iov_len : want - done;
		ssize_t got;
		while ((got = getrandom(c->iov[i].iov_base, k, 0)) < 0 && errno == EINTR)
			;
		if (got < 0)
			break;
		done += got;
		if ((size_t)got < k)
			break;
	}
	return done;
}

static void rng_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_serve(d, q, rng_fill);
}

static void rng_destroy(struct virtio_dev *d)
{
	free(d);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.queue_max = 64,
	.notify = rng_notify,
	.destroy = rng_destroy,
	.save = virtio_save_nothing,
	.restore = virtio_restore_nothing,
};

int virtio_rng_create(const struct guest_mem *mem, struct virtio_dev **out,
		      struct ign_err *err)
{
	struct virtio_dev *d = malloc(sizeof(*d));

	if (!d)
		return ign_err_set(err, ENOMEM, "virtio-rng");
	virtio_dev_init(d, &rng_ops, NULL, mem, 0);
	*out = d;
	return 0;
}
