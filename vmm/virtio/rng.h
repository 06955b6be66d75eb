/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (virtio 1.x, 5.4): the guest's /dev/hwrng, filled from getrandom(2). */
#ifndef IGN_VIRTIO_RNG_H
#define IGN_VIRTIO_RNG_H

#include "mmio.h"

#define VIRTIO_ID_RNG 4

int virtio_rng_create(const struct guest_mem *mem, struct virtio_dev **out,
		      struct ign_err *err);

#endif
