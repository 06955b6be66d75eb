/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 9P wire encoding: little-endian integers, strings as len[2] bytes, qids as
 * type[1] version[4] path[8]. A reader never reads past its buffer: a short
 * message sets `bad` and yields zeros. A writer never writes past its
 * capacity: an overflow sets `over` and the message is not sent.
 */
#ifndef IGN_P9_WIRE_H
#define IGN_P9_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define P9_HDR 7  /* size[4] type[1] tag[2] */

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

struct p9_rd {
	const uint8_t *p;
	size_t len, off;
	int bad;
};

struct p9_wr {
	uint8_t *p;
	size_t cap, off;
	int over;
};

static inline const uint8_t *p9_take(struct p9_rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	r->off += n;
	return r->p + r->off - n;
}

static inline uint64_t p9_get(struct p9_rd *r, unsigned n)
{
	const uint8_t *b = p9_take(r, n);
	uint64_t v = 0;

	for (unsigned i = 0; b && i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline uint8_t p9_get8(struct p9_rd *r) { return (uint8_t)p9_get(r, 1); }
static inline uint16_t p9_get16(struct p9_rd *r) { return (uint16_t)p9_get(r, 2); }
static inline uint32_t p9_get32(struct p9_rd *r) { return (uint32_t)p9_get(r, 4); }
static inline uint64_t p9_get64(struct p9_rd *r) { return p9_get(r, 8); }

/* Skips a field the server does not use. */
static inline void p9_skip(struct p9_rd *r, size_t n)
{
	p9_take(r, n);
}

/* A string, not NUL-terminated: *s points into the message. */
static inline uint16_t p9_getstr(struct p9_rd *r, const char **s)
{
	uint16_t n = p9_get16(r);

	*s = (const char *)p9_take(r, n);
	return *s ? n : 0;
}

static inline uint8_t *p9_room(struct p9_wr *w, size_t n)
{
	if (w->over || n > w->cap - w->off) {
		w->over = 1;
		return NULL;
	}
	w->off += n;
	return w->p + w->off - n;
}

static inline void p9_put(struct p9_wr *w, uint64_t v, unsigned n)
{
	uint8_t *b = p9_room(w, n);

	for (unsigned i = 0; b && i < n; i++)
		b[i] = v >> (8 * i);
}

#define p9_put8(w, v)  p9_put(w, v, 1)
#define p9_put16(w, v) p9_put(w, v, 2)
#define p9_put32(w, v) p9_put(w, v, 4)
#define p9_put64(w, v) p9_put(w, v, 8)

static inline void p9_putmem(struct p9_wr *w, const void *s, size_t n)
{
	uint8_t *b = p9_room(w, n);

	if (b && n)
		memcpy(b, s, n);
}

static inline void p9_putstr(struct p9_wr *w, const char *s, size_t n)
{
	if (n > UINT16_MAX) {
		w->over = 1;
		return;
	}
	p9_put16(w, n);
	p9_putmem(w, s, n);
}

static inline void p9_putqid(struct p9_wr *w, const struct p9_qid *q)
{
	p9_put8(w, q->type);
	p9_put32(w, q->version);
	p9_put64(w, q->path);
}

/* Starts a message (its size is filled in by p9_end). */
static inline void p9_begin(struct p9_wr *w, uint8_t type, uint16_t tag)
{
	w->off = 0;
	w->over = 0;
	p9_put32(w, 0);
	p9_put8(w, type);
	p9_put16(w, tag);
}

/* Returns the message's length, or 0 if it did not fit. */
static inline size_t p9_end(struct p9_wr *w)
{
	if (w->over)
		return 0;
	for (unsigned i = 0; i < 4; i++)
		w->p[i] = (uint8_t)(w->off >> (8 * i));
	return w->off;
}

#endif
