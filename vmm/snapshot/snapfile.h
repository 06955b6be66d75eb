/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot state file (docs/snapshot-format.md): a 32-byte header
 * (magic, format version, architecture, section count, payload length),
 * tagged sections, and a CRC-32 (zlib's) of everything before it. The whole
 * file is read and checked before any of it is used, and it is written under
 * a temporary name, synced and renamed, so a reader sees all of a snapshot
 * or none of it.
 */
#ifndef IGN_SNAPFILE_H
#define IGN_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define SNAP_MAGIC "IGNSNAP\0"
#define SNAP_VERSION 1
#define SNAP_ARCH_X86_64 1
#define SNAP_HDR_SIZE 32
#define SNAP_MAX_BYTES (16u << 20)      /* a state file is never larger */
#define SNAP_MAX_SECTION (4u << 20)
#define SNAP_MAX_SECTIONS 1024

enum snap_tag {
	SNAP_META = 1,      /* text: key=value lines (VMM version, CPU, sizes) */
	SNAP_VM = 2,        /* irqchips, PIT, kvmclock */
	SNAP_VCPU = 3,      /* one per vCPU, in order */
	SNAP_SERIAL = 4,
	SNAP_VIRTIO = 5,    /* one per virtio device, in device order */
	SNAP_PAGES = 6,     /* a diff snapshot's page ranges, right after META */
};

/* A growing byte buffer; a failed allocation is remembered, not reported at once. */
struct snap_buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

void snap_buf_put(struct snap_buf *b, const void *data, size_t len);
void snap_buf_free(struct snap_buf *b);

/* Appends a section to the state being built in b (after snap_begin). */
void snap_begin(struct snap_buf *b);
void snap_section(struct snap_buf *b, uint32_t tag, const void *data, size_t len);
/* Writes b as the file `path` (temp + fsync + rename). */
int snap_commit(struct snap_buf *b, const char *path, struct ign_err *err);

struct snap_reader {
	uint8_t *buf;
	size_t len, off;
	unsigned left;      /* sections not yet read */
	const char *path;
	uint32_t crc;       /* the file's CRC: a diff snapshot names its parent by it */
};

/* Reads and checks the whole file: magic, version, architecture, sizes, CRC. */
int snap_open(const char *path, struct snap_reader *r, struct ign_err *err);
/* The next section, which must have tag `tag`. */
int snap_next(struct snap_reader *r, uint32_t tag, const uint8_t **data, size_t *len,
	      struct ign_err *err);
/* The tag of the next section, 0 when none is left. */
uint32_t snap_peek(const struct snap_reader *r);
void snap_close(struct snap_reader *r);
/* Checks a parsed buffer (for snap_open and the fuzzer). Takes nothing. */
int snap_check(const uint8_t *buf, size_t len, const char *path, unsigned *nsections,
	       struct ign_err *err);

#endif
