// SPDX-License-Identifier: Apache-2.0
#include "rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_MAX_PER_REQUEST 4096  /* the guest asks again for more */

static void rng_notify(struct virtio_dev *d, unsigned q)
{
	struct virtq_chain c;
	struct ign_err err = { 0 };
	int r, pushed = 0;

	while ((r = virtq_pop(&d->vq[q], d->mem, &c, &err)) > 0) {
		size_t want = c.in_len < RNG_MAX_PER_REQUEST ? c.in_len : RNG_MAX_PER_REQUEST;
		size_t done = 0;
		for (unsigned i = c.n_out; i < c.n_out + c.n_in && done < want; i++) {
			size_t k = c.iov[i].iov_len < want - done ? c.iov[i].iov_len : want - done;
			ssize_t got = getrandom(c.iov[i].iov_base, k, 0);
			if (got < 0 && errno == EINTR) {
				i--;
				continue;
			}
			if (got < 0)
				break;
			done += got;
			if ((size_t)got < k)
				break;
		}
		virtq_push(&d->vq[q], c.head, done);
		pushed = 1;
	}
	if (pushed)
		virtio_dev_signal_used(d, q);
	if (r < 0)
		virtio_dev_fail(d, "request queue", &err);
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
