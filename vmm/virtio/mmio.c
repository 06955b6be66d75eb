// SPDX-License-Identifier: Apache-2.0
#include "mmio.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ign/log.h"

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		     const struct guest_mem *mem, uint64_t device_features)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->mem = mem;
	d->device_features = device_features | VIRTIO_F_VERSION_1;
	d->irqfd = -1;
	for (unsigned i = 0; i < ops->nqueues; i++)
		d->vq[i].max_size = ops->queue_max;
	pthread_mutex_init(&d->lock, NULL);
}

static void raise_irq(struct virtio_dev *d, uint32_t bits)
{
	uint64_t one = 1;

	__atomic_or_fetch(&d->interrupt_status, bits, __ATOMIC_SEQ_CST);
	if (d->irqfd >= 0 && write(d->irqfd, &one, sizeof(one)) < 0)
		log_ratelimited(IGN_LOG_WARN, "%s: interrupt eventfd: %s", d->ops->name,
				strerror(errno));
}

void virtio_queue_signal(struct virtio_dev *d, unsigned q)
{
	if (virtq_wants_interrupt(&d->vq[q]))
		raise_irq(d, VIRTIO_INT_USED);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	raise_irq(d, VIRTIO_INT_CONFIG);
}

void virtio_dev_fail(struct virtio_dev *d, const char *what, const struct ign_err *why)
{
	log_ratelimited(IGN_LOG_WARN, "%s at 0x%llx: %s: %s; device needs reset", d->ops->name,
			(unsigned long long)d->base, what, why ? why->msg : "malformed");
	d->active = 0;
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		d->status |= VIRTIO_STATUS_NEEDS_RESET;
		raise_irq(d, VIRTIO_INT_CONFIG);
	}
}

static void device_reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	for (unsigned i = 0; i < d->ops->nqueues; i++)
		virtq_reset(&d->vq[i]);
	d->active = 0;
	d->status = 0;
	d->driver_features = 0;
	d->device_features_sel = d->driver_features_sel = d->queue_sel = 0;
	__atomic_store_n(&d->interrupt_status, 0, __ATOMIC_SEQ_CST);
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
	struct ign_err err = { 0 };

	if (v == 0) {
		device_reset(d);
		return;
	}
	/* FEATURES_OK: only what we offered, and never a legacy (pre-1.0) driver. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		if ((d->driver_features & ~d->device_features) ||
		    !(d->driver_features & VIRTIO_F_VERSION_1))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK)) {
		d->status = v;
		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_dev_fail(d, "DRIVER_OK without FEATURES_OK", NULL);
			return;
		}
		for (unsigned i = 0; i < d->ops->nqueues; i++) {
			if (!d->vq[i].ready)
				continue;
			if (virtq_activate(&d->vq[i], d->mem, &err) < 0) {
				virtio_dev_fail(d, "queue setup", &err);
				return;
			}
		}
		if (d->ops->activate && d->ops->activate(d, &err) < 0) {
			virtio_dev_fail(d, "activate", &err);
			return;
		}
		d->active = 1;
		return;
	}
	d->status = v | (d->status & VIRTIO_STATUS_NEEDS_RESET);
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = d->queue_sel < d->ops->nqueues ? &d->vq[d->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_VENDOR_IGN;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return d->device_features_sel > 1 ? 0 :
		       (uint32_t)(d->device_features >> (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&d->interrupt_status, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS: return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION: return d->config_generation;
	default: return 0;
	}
}

static void set_half(uint64_t *v, int high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffULL) | (uint64_t)val << 32
		  : (*v & ~0xffffffffULL) | val;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = d->queue_sel < d->ops->nqueues ? &d->vq[d->queue_sel] : NULL;
	/* Queue registers only change while the queue is not live (4.2.2.3). */
	int q_writable = q && !q->ready && !(d->status & VIRTIO_STATUS_DRIVER_OK);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->device_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->driver_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->driver_features_sel < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&d->driver_features, d->driver_features_sel, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM: if (q_writable) q->size = v > 0xffff ? 0 : v; break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q && v == 0) q->ready = 0;
		else if (q_writable) q->ready = 1;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_and_fetch(&d->interrupt_status, ~v, __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS: set_status(d, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q_writable) set_half(&q->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q_writable) set_half(&q->avail_gpa, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q_writable) set_half(&q->used_gpa, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	default:
		log_ratelimited(IGN_LOG_DEBUG, "%s: write 0x%x to read-only or unknown register "
				"0x%llx", d->ops->name, v, (unsigned long long)off);
	}
}

void virtio_mmio_access(struct virtio_dev *d, uint64_t off, int is_write, uint8_t *data,
			unsigned size)
{
	if (off >= VIRTIO_MMIO_CONFIG) {
		pthread_mutex_lock(&d->lock);
		if (is_write && d->ops->config_write)
			d->ops->config_write(d, off - VIRTIO_MMIO_CONFIG, data, size);
		else if (!is_write && d->ops->config_read)
			d->ops->config_read(d, off - VIRTIO_MMIO_CONFIG, data, size);
		else if (!is_write)
			memset(data, 0, size);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	/* Registers are 32 bits wide and aligned (4.2.2.2): anything else is ignored. */
	if (size != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0, size);
		log_ratelimited(IGN_LOG_DEBUG, "%s: %u-byte access at 0x%llx ignored",
				d->ops->name, size, (unsigned long long)off);
		return;
	}
	uint32_t v;
	if (is_write && off == VIRTIO_MMIO_QUEUE_NOTIFY) {
		memcpy(&v, data, 4);
		virtio_dev_kick(d, v);  /* takes the lock itself */
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		memcpy(&v, data, 4);
		reg_write(d, off, v);
	} else {
		v = reg_read(d, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_kick(struct virtio_dev *d, unsigned q)
{
	pthread_mutex_lock(&d->lock);
	if (q < d->ops->nqueues && d->active && d->vq[q].ready && d->ops->notify)
		d->ops->notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

void virtio_config_copy(const void *cfg, size_t cfg_len, uint32_t off, uint8_t *data,
			unsigned size)
{
	if (off > cfg_len || size > cfg_len - off)
		memset(data, 0, size);
	else
		memcpy(data, (const uint8_t *)cfg + off, size);
}

void virtio_queue_serve(struct virtio_dev *d, unsigned q,
			int64_t (*handle)(struct virtio_dev *d, struct virtq_chain *c,
					  struct ign_err *err))
{
	struct virtq_chain c;
	struct ign_err err = { 0 };
	int r, pushed = 0;

	while ((r = virtq_pop(&d->vq[q], d->mem, &c, &err)) > 0) {
		int64_t len = handle(d, &c, &err);
		if (len < 0)
			break;
		virtq_push(&d->vq[q], c.head, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
		pushed = 1;
	}
	if (pushed)
		virtio_queue_signal(d, q);
	if (r < 0)
		virtio_dev_fail(d, "request queue", &err);
	else if (r > 0)
		virtio_dev_fail(d, "request", &err);
}

int virtio_dev_can_snapshot(const struct virtio_dev *d, struct ign_err *err)
{
	if (!d->ops->save || !d->ops->restore)
		return ign_err_setx(err, ENOTSUP, "%s at 0x%llx cannot be snapshotted yet",
				    d->ops->name, (unsigned long long)d->base);
	return 0;
}

/* The transport's saved state; queues as the driver set them up. */
struct transport_state {
	uint32_t device_id, nqueues;
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status, interrupt_status, config_generation, active, pad;
	struct {
		uint16_t size, ready, last_avail, used_idx;
		uint64_t desc, avail, used;
	} q[VIRTIO_MAX_QUEUES];
};

int virtio_dev_save(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err)
{
	struct transport_state t = {
		.device_id = d->ops->device_id, .nqueues = d->ops->nqueues,
		.device_features = d->device_features, .driver_features = d->driver_features,
		.device_features_sel = d->device_features_sel,
		.driver_features_sel = d->driver_features_sel, .queue_sel = d->queue_sel,
		.status = d->status, .config_generation = d->config_generation,
		.interrupt_status = __atomic_load_n(&d->interrupt_status, __ATOMIC_SEQ_CST),
		.active = d->active,
	};
	int r;

	if ((r = virtio_dev_can_snapshot(d, err)) < 0)
		return r;
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		const struct virtq *q = &d->vq[i];
		t.q[i].size = q->size;
		t.q[i].ready = q->ready;
		t.q[i].last_avail = q->last_avail;
		t.q[i].used_idx = q->used_idx;
		t.q[i].desc = q->desc_gpa;
		t.q[i].avail = q->avail_gpa;
		t.q[i].used = q->used_gpa;
	}
	snap_buf_put(b, &t, sizeof(t));
	if ((r = d->ops->save(d, b, err)) < 0)
		return ign_err_wrap(err, "%s at 0x%llx", d->ops->name, (unsigned long long)d->base);
	return 0;
}

int virtio_dev_restore(struct virtio_dev *d, const uint8_t *data, size_t len,
		       struct ign_err *err)
{
	struct transport_state t;
	int r;

	if ((r = virtio_dev_can_snapshot(d, err)) < 0)
		return r;
	if (len < sizeof(t))
		return ign_err_setx(err, EINVAL, "%s: saved state of %zu bytes", d->ops->name, len);
	memcpy(&t, data, sizeof(t));
	if (t.device_id != d->ops->device_id || t.nqueues != d->ops->nqueues ||
	    t.device_features != d->device_features)
		return ign_err_setx(err, EINVAL, "%s at 0x%llx: the snapshot has device type %u with "
				    "features 0x%llx here: the VM's devices differ from the "
				    "snapshot's", d->ops->name, (unsigned long long)d->base,
				    t.device_id, (unsigned long long)t.device_features);
	if (t.driver_features & ~t.device_features)
		return ign_err_setx(err, EINVAL, "%s: saved driver features not offered",
				    d->ops->name);
	d->driver_features = t.driver_features;
	d->device_features_sel = t.device_features_sel;
	d->driver_features_sel = t.driver_features_sel;
	d->queue_sel = t.queue_sel;
	d->status = t.status;
	d->config_generation = t.config_generation;
	d->interrupt_status = t.interrupt_status;
	d->active = !!t.active;
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		struct virtq *q = &d->vq[i];
		virtq_reset(q);
		q->size = t.q[i].size;
		q->ready = !!t.q[i].ready;
		q->desc_gpa = t.q[i].desc;
		q->avail_gpa = t.q[i].avail;
		q->used_gpa = t.q[i].used;
		if (q->ready && d->active && (r = virtq_activate(q, d->mem, err)) < 0)
			return ign_err_wrap(err, "%s queue %u", d->ops->name, i);
		q->last_avail = t.q[i].last_avail;
		q->used_idx = t.q[i].used_idx;
	}
	if ((r = d->ops->restore(d, data + sizeof(t), len - sizeof(t), err)) < 0)
		return ign_err_wrap(err, "%s at 0x%llx", d->ops->name, (unsigned long long)d->base);
	return 0;
}

int virtio_save_nothing(struct virtio_dev *d, struct snap_buf *b, struct ign_err *err)
{
	(void)d, (void)b, (void)err;
	return 0;
}

int virtio_restore_nothing(struct virtio_dev *d, const uint8_t *data, size_t len,
			   struct ign_err *err)
{
	(void)data;
	if (len)
		return ign_err_setx(err, EINVAL, "%s: %zu bytes of device state where none is "
				    "expected", d->ops->name, len);
	return 0;
}
