/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport, version 2 (virtio 1.x, 4.2): the register model a
 * device sits behind. Devices fill in struct virtio_dev_ops; the transport
 * negotiates features, collects each queue's rings, activates the device on
 * DRIVER_OK and resets it when the driver writes 0 to Status.
 *
 * Threads: vCPU threads access registers (virtio_mmio_access); the VM's I/O
 * thread runs ops->notify when a queue is kicked (through an ioeventfd). Both
 * hold dev->lock. Interrupts go out through dev->irqfd (KVM_IRQFD, edge).
 *
 * A device that finds the guest's rings or requests malformed calls
 * virtio_dev_fail(): DEVICE_NEEDS_RESET, a config-change interrupt, one
 * rate-limited log line, and no further processing until the driver resets it.
 */
#ifndef IGN_VIRTIO_MMIO_H
#define IGN_VIRTIO_MMIO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"
#include "mem.h"
#include "queue.h"
#include "snapshot/snapfile.h"

#define VIRTIO_MMIO_SIZE        0x1000
#define VIRTIO_MAX_QUEUES       4

#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION     0x004
#define VIRTIO_MMIO_DEVICE_ID   0x008
#define VIRTIO_MMIO_VENDOR_ID   0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL     0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM     0x038
#define VIRTIO_MMIO_QUEUE_READY   0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY  0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK    0x064
#define VIRTIO_MMIO_STATUS           0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW   0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH  0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW  0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW  0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG            0x100

#define VIRTIO_MMIO_MAGIC   0x74726976  /* "virt" */
#define VIRTIO_VENDOR_IGN   0x4e474921  /* "!IGN" */

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

#define VIRTIO_INT_USED   1
#define VIRTIO_INT_CONFIG 2

#define VIRTIO_F_VERSION_1 (1ULL << 32)

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;            /* "virtio-blk": used in logs and errors */
	uint32_t device_id;
	unsigned nqueues;
	uint16_t queue_max;
	/* Config space (offset from 0x100): a device copies from/to its struct. */
	void (*config_read)(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned size);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const uint8_t *data,
			     unsigned size);
	int (*activate)(struct virtio_dev *d, struct ign_err *err);  /* DRIVER_OK */
	void (*notify)(struct virtio_dev *d, unsigned queue);        /* I/O thread */
	void (*reset)(struct virtio_dev *d);                         /* optional */
	/*
	 * Optional: ends what the host side holds for the guest that no
	 * snapshot can (vsock connections, 9p fids), before the VM rolls back
	 * to a snapshot taken when there was none (ign_vm_reset). The host's
	 * peers see their connections end. Called with d->lock held.
	 */
	void (*disconnect)(struct virtio_dev *d);
	void (*destroy)(struct virtio_dev *d);  /* frees priv and the device */
	/*
	 * Snapshots: each device appends its own state (beyond the transport's,
	 * which virtio_dev_save() writes) and reads it back, next to its code;
	 * save refuses, naming why, when the device is in a state it cannot
	 * carry over. NULL: this device cannot be snapshotted, and
	 * virtio_dev_can_snapshot() refuses by its name. Called with d->lock held
	 * (save) or before the VM runs (restore).
	 */
	int (*save)(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err);
	int (*restore)(struct virtio_dev *d, const uint8_t *data, size_t len,
		       struct ign_err *err);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct guest_mem *mem;
	uint64_t base;                 /* guest physical address of the registers */
	unsigned gsi;
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status, interrupt_status, config_generation;
	int active;                    /* DRIVER_OK accepted, not failed */
	struct virtq vq[VIRTIO_MAX_QUEUES];
	int irqfd;                     /* eventfd wired to gsi; -1: interrupts go nowhere */
	pthread_mutex_t lock;
};

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		     const struct guest_mem *mem, uint64_t device_features);
void virtio_mmio_access(struct virtio_dev *d, uint64_t off, int is_write, uint8_t *data,
			unsigned size);
/* Kicks queue q (ioeventfd fired, or a QueueNotify write without one). */
void virtio_dev_kick(struct virtio_dev *d, unsigned q);
/* The guest misbehaved: NEEDS_RESET, config interrupt, one log line. Holds d->lock. */
void virtio_dev_fail(struct virtio_dev *d, const char *what, const struct ign_err *why);
/* The device's configuration changed (a disk slot filled): generation++, interrupt. */
void virtio_dev_config_changed(struct virtio_dev *d);
/*
 * Serves every available request of queue q with handle(), which returns the
 * bytes it wrote into the chain or <0 (err set) for a malformed request; then
 * signals the guest once. A malformed ring or request fails the device.
 * Caller holds d->lock (it is the notify path).
 */
void virtio_queue_serve(struct virtio_dev *d, unsigned q,
			int64_t (*handle)(struct virtio_dev *d, struct virtq_chain *c,
					  struct ign_err *err));
/* Interrupts the guest for chains pushed on queue q, unless it asked not to. */
void virtio_queue_signal(struct virtio_dev *d, unsigned q);
/* 0 if the device can be snapshotted, else an error naming it. */
int virtio_dev_can_snapshot(const struct virtio_dev *d, struct ign_err *err);
/*
 * The transport's state (features, status, queues) and then the device's.
 * Restore checks it against the device as created (type, features, queue
 * limits), checks each live queue's rings against guest memory as the
 * driver's setup would, and leaves the device as it was saved.
 */
int virtio_dev_save(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err);
int virtio_dev_restore(struct virtio_dev *d, const uint8_t *data, size_t len,
		       struct ign_err *err);
/* Devices whose own state is nothing (rng, net): save writes nothing, restore wants nothing. */
int virtio_save_nothing(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err);
int virtio_restore_nothing(struct virtio_dev *d, const uint8_t *data, size_t len,
			   struct ign_err *err);
/* Reads size bytes at off of a device's config struct; out of range reads 0. */
void virtio_config_copy(const void *cfg, size_t cfg_len, uint32_t off, uint8_t *data,
			unsigned size);

#endif
