// SPDX-License-Identifier: Apache-2.0
#include "layers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "snapfile.h"

#define PAGE 4096ul
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE    (1ull << 61)
#define MERGE_GAP 16

int layers_changed(const void *hva, uint64_t size, struct page_range **out, unsigned *n,
		   struct ign_err *err)
{
	const uint64_t npages = size / PAGE, first = (uintptr_t)hva / PAGE;
	cleanup_close int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t buf[4096];
	struct page_range *r = NULL;
	unsigned cap = 0, k = 0;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return ign_err_set(err, errno, "/proc/self/pagemap");
	for (uint64_t i = 0; i < npages;) {
		uint64_t want = npages - i < 4096 ? npages - i : 4096;
		ssize_t got = pread(fd, buf, want * 8, (first + i) * 8);
		if (got != (ssize_t)(want * 8)) {
			free(r);
			return ign_err_set(err, got < 0 ? errno : EIO, "/proc/self/pagemap");
		}
		for (uint64_t j = 0; j < want; j++, i++) {
			uint64_t e = buf[j];
			if (!((e & PM_PRESENT) && !(e & PM_FILE)) && !(e & PM_SWAPPED))
				continue;
			if (k && i - (r[k - 1].first + r[k - 1].count) < MERGE_GAP) {
				r[k - 1].count = i + 1 - r[k - 1].first;
				continue;
			}
			if (k == LAYERS_MAX_RANGES) {
				free(r);
				return ign_err_setx(err, E2BIG, "over %d runs of changed pages: take a "
						    "full snapshot", LAYERS_MAX_RANGES);
			}
			if (k == cap) {
				struct page_range *bigger = realloc(r, (cap = cap ? 2 * cap : 64) *
								    sizeof(*r));
				if (!bigger) {
					free(r);
					return ign_err_set(err, ENOMEM, "changed pages");
				}
				r = bigger;
			}
			r[k++] = (struct page_range){ i, 1 };
		}
	}
	*out = r;
	*n = k;
	return 0;
}

int layers_check(const struct page_range *r, unsigned n, uint64_t size, struct ign_err *err)
{
	uint64_t end = 0, npages = size / PAGE;

	if (n > LAYERS_MAX_RANGES)
		return ign_err_setx(err, EINVAL, "%u page ranges, over %d", n, LAYERS_MAX_RANGES);
	for (unsigned i = 0; i < n; i++) {
		if (!r[i].count || r[i].first < end || r[i].first > npages ||
		    r[i].count > npages - r[i].first)
			return ign_err_setx(err, EINVAL, "page range %u (%" PRIu64 "+%" PRIu64 ") is "
					    "empty, out of order or beyond %" PRIu64 " pages", i,
					    r[i].first, r[i].count, npages);
		end = r[i].first + r[i].count;
	}
	return 0;
}

int layers_parent(const char *meta, size_t len, char *parent, size_t n, uint32_t *crc)
{
	char text[4096];
	size_t m = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

	memcpy(text, meta, m);
	text[m] = 0;
	const char *p = strstr(text, "\nparent=");
	const char *c = strstr(text, "\nparent_crc=");
	if (!p || !c)
		return 0;
	p += 8;
	size_t plen = strcspn(p, "\n");
	if (!plen || plen >= n)
		return -1;
	memcpy(parent, p, plen);
	parent[plen] = 0;
	*crc = (uint32_t)strtoul(c + 12, NULL, 16);
	return 1;
}

static int open_memory(const char *dir, uint64_t size, struct ign_err *err)
{
	char path[PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/memory", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ign_err_set(err, e, "snapshot memory `%s`", path);
	}
	if ((uint64_t)st.st_size != size) {
		close(fd);
		return ign_err_setx(err, EINVAL, "snapshot memory `%s` is %llu bytes, the VM has "
				    "%llu: truncated, or another snapshot's", path,
				    (unsigned long long)st.st_size, (unsigned long long)size);
	}
	return fd;
}

static int map_root(const char *dir, uint64_t size, void **hva, struct ign_err *err)
{
	cleanup_close int fd = open_memory(dir, size, err);

	if (fd < 0)
		return fd;
	void *p = mmap(*hva, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_NORESERVE | (*hva ? MAP_FIXED : 0), fd, 0);
	if (p == MAP_FAILED)
		return ign_err_set(err, errno, "map snapshot memory of `%s`", dir);
	*hva = p;
	return 0;
}

/* A diff's own pages (its PAGES section, next in rd) over its parent's mapping. */
static int map_pages(const char *dir, struct snap_reader *rd, uint64_t size, void *hva,
		     struct ign_err *err)
{
	const uint8_t *data;
	size_t len;
	int r;

	if ((r = snap_next(rd, SNAP_PAGES, &data, &len, err)) < 0)
		return r;
	if (len % sizeof(struct page_range))
		return ign_err_setx(err, EINVAL, "snapshot `%s`: a pages section of %zu bytes", dir,
				    len);
	unsigned n = len / sizeof(struct page_range);
	cleanup_free struct page_range *ranges = malloc(len ? len : 1);
	if (!ranges)
		return ign_err_set(err, ENOMEM, "page ranges");
	memcpy(ranges, data, len);
	if ((r = layers_check(ranges, n, size, err)) < 0)
		return ign_err_wrap(err, "snapshot `%s`", dir);
	cleanup_close int fd = open_memory(dir, size, err);
	if (fd < 0)
		return fd;
	for (unsigned i = 0; i < n; i++)
		if (mmap((uint8_t *)hva + ranges[i].first * PAGE, ranges[i].count * PAGE,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd,
			 (off_t)(ranges[i].first * PAGE)) == MAP_FAILED)
			return ign_err_set(err, errno, "map the pages of diff snapshot `%s`", dir);
	return 0;
}

static int map_layer(const char *dir, uint64_t size, unsigned depth, void **hva, uint32_t *crc,
		     struct ign_err *err);

static int map_opened(const char *dir, struct snap_reader *rd, uint64_t size, unsigned depth,
		      void **hva, struct ign_err *err)
{
	char parent[PATH_MAX];
	const uint8_t *data;
	size_t len;
	uint32_t want_crc = 0, got_crc;
	int r;

	if ((r = snap_next(rd, SNAP_META, &data, &len, err)) < 0)
		return r;
	int has_parent = layers_parent((const char *)data, len, parent, sizeof(parent), &want_crc);
	if (has_parent < 0)
		return ign_err_setx(err, EINVAL, "snapshot `%s`: a bad parent line", dir);
	if (!has_parent)
		return map_root(dir, size, hva, err);
	if (depth >= LAYERS_MAX_DEPTH)
		return ign_err_setx(err, ELOOP, "snapshot `%s`: over %d diff snapshots in a chain",
				    dir, LAYERS_MAX_DEPTH);
	if ((r = map_layer(parent, size, depth + 1, hva, &got_crc, err)) < 0)
		return ign_err_wrap(err, "the parent of diff snapshot `%s`", dir);
	if (got_crc != want_crc)
		return ign_err_setx(err, EINVAL, "diff snapshot `%s` was made over a parent `%s` "
				    "with state CRC %08x, which is now %08x: the parent changed",
				    dir, parent, want_crc, got_crc);
	return map_pages(dir, rd, size, *hva, err);
}

static int map_layer(const char *dir, uint64_t size, unsigned depth, void **hva, uint32_t *crc,
		     struct ign_err *err)
{
	char path[PATH_MAX + 16];
	struct snap_reader rd;
	int r;

	snprintf(path, sizeof(path), "%s/state", dir);
	if ((r = snap_open(path, &rd, err)) < 0)
		return r;
	*crc = rd.crc;
	r = map_opened(dir, &rd, size, depth, hva, err);
	snap_close(&rd);
	return r;
}

int layers_map(const char *dir, uint64_t size, void **hva, struct ign_err *err)
{
	uint32_t crc;

	*hva = NULL;
	int r = map_layer(dir, size, 0, hva, &crc, err);
	if (r < 0 && *hva) {
		munmap(*hva, size);
		*hva = NULL;
	}
	return r;
}
