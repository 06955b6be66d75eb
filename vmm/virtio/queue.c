// SPDX-License-Identifier: Apache-2.0
#include "queue.h"

#include <errno.h>
#include <string.h>

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int virtq_activate(struct virtq *q, const struct guest_mem *m, struct ign_err *err)
{
	uint16_t n = q->size;

	if (n == 0 || n > q->max_size || (n & (n - 1)))
		return ign_err_setx(err, EINVAL, "queue size %u is not a power of two in 1..%u",
				    n, q->max_size);
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return ign_err_setx(err, EINVAL, "misaligned ring (desc 0x%llx avail 0x%llx "
				    "used 0x%llx)", (unsigned long long)q->desc_gpa,
				    (unsigned long long)q->avail_gpa,
				    (unsigned long long)q->used_gpa);
	q->desc = guest_mem_ptr(m, q->desc_gpa, 16ULL * n);
	q->avail = guest_mem_ptr(m, q->avail_gpa, 6 + 2ULL * n);
	q->used = guest_mem_ptr(m, q->used_gpa, 6 + 8ULL * n);
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL, q->avail = NULL, q->used = NULL;
		return ign_err_setx(err, EFAULT, "ring outside guest memory (desc 0x%llx "
				    "avail 0x%llx used 0x%llx, size %u)",
				    (unsigned long long)q->desc_gpa,
				    (unsigned long long)q->avail_gpa,
				    (unsigned long long)q->used_gpa, n);
	}
	q->last_avail = 0;
	q->used_idx = 0;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	uint16_t max = q->max_size;

	memset(q, 0, sizeof(*q));
	q->max_size = max;
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
	      struct ign_err *err)
{
	if (!q->ready || !q->avail)
		return 0;
	uint16_t avail_idx = load16(&q->avail->idx);
	uint16_t pending = avail_idx - q->last_avail;
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return ign_err_setx(err, EPROTO, "avail index %u is %u ahead of %u (queue size %u)",
				    avail_idx, pending, q->last_avail, q->size);

	uint16_t head = load16(&q->avail->ring[q->last_avail & (q->size - 1)]);
	if (head >= q->size)
		return ign_err_setx(err, EPROTO, "avail ring names descriptor %u of %u", head,
				    q->size);

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	uint16_t i = head;
	for (unsigned count = 0;; count++) {
		struct virtq_desc d;

		if (count >= q->size || count >= VIRTQ_MAX_SEGS)
			return ign_err_setx(err, EPROTO, "descriptor chain from %u longer than %u "
					    "(loop?)", head, count);
		memcpy(&d, &q->desc[i], sizeof(d));  /* one snapshot: guest may rewrite it */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return ign_err_setx(err, EPROTO, "indirect descriptor %u (not negotiated)", i);
		void *p = guest_mem_ptr(m, d.addr, d.len);
		if (!p)
			return ign_err_setx(err, EFAULT, "descriptor %u: 0x%llx+%u is outside guest "
					    "memory", i, (unsigned long long)d.addr, d.len);
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			c->in_len += d.len;
			c->iov[c->n_out + c->n_in++] = (struct iovec){ p, d.len };
		} else {
			if (c->n_in)
				return ign_err_setx(err, EPROTO, "descriptor %u: readable after "
						    "writable", i);
			c->out_len += d.len;
			c->iov[c->n_out++] = (struct iovec){ p, d.len };
		}
		if (c->out_len + c->in_len > VIRTQ_MAX_CHAIN_BYTES)
			return ign_err_setx(err, EPROTO, "descriptor chain from %u is over %u bytes",
					    head, VIRTQ_MAX_CHAIN_BYTES);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return ign_err_setx(err, EPROTO, "descriptor %u: next %u is out of range",
					    i, d.next);
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	e->id = head;
	e->len = len;
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

int virtq_wants_interrupt(const struct virtq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(load16(&q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between buf and the bytes of iov[0,n) from `skip` on, in either direction. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t skip, uint8_t *buf,
		       size_t len, int into_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - skip;
		if (k > len - done)
			k = len - done;
		uint8_t *seg = (uint8_t *)iov[i].iov_base + skip;
		memcpy(into_iov ? seg : buf + done, into_iov ? buf + done : seg, k);
		done += k;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, 0);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
		    size_t len)
{
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, 1);
}

unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
		   struct iovec *out, unsigned out_max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len && k < out_max; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t l = iov[i].iov_len - skip;
		if (l > len)
			l = len;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, l };
		len -= l;
		skip = 0;
	}
	return k;
}
