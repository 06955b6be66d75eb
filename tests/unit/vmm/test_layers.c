// SPDX-License-Identifier: Apache-2.0
/* Diff snapshot layers (vmm/snapshot/layers.c) on real files and mappings. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/layers.h"
#include "snapshot/snapfile.h"

#define PG 4096u
#define NPAGES 64u
#define SIZE ((uint64_t)NPAGES * PG)

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ign-layers-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A snapshot directory NAME: memory with `fill` on the listed pages, META (and PAGES). */
static void make_snap(const char *name, const char *parent, uint32_t parent_crc,
		      const struct page_range *r, unsigned n, char fill)
{
	char path[256], meta[512];
	struct snap_buf b = { 0 };
	struct ign_err err = { 0 };
	uint8_t page[PG];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/memory", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, SIZE), 0);
	memset(page, fill, sizeof(page));
	for (unsigned i = 0; i < n; i++)
		for (uint64_t p = r[i].first; p < r[i].first + r[i].count; p++)
			cr_assert_eq(pwrite(fd, page, PG, p * PG), PG);
	close(fd);
	int len = snprintf(meta, sizeof(meta), "vmm=test %s\ndevices=\n", name);
	if (parent)
		len += snprintf(meta + len, sizeof(meta) - len, "parent=%s/%s\nparent_crc=%08x\n",
				dir, parent, parent_crc);
	snap_begin(&b);
	snap_section(&b, SNAP_META, meta, len);
	if (parent)
		snap_section(&b, SNAP_PAGES, r, n * sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s/state", dir, name);
	cr_assert_eq(snap_commit(&b, path, &err), 0, "%s", err.msg);
	snap_buf_free(&b);
}

static uint32_t crc_of(const char *name)
{
	char path[256];
	struct snap_reader rd;
	struct ign_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s/state", dir, name);
	cr_assert_eq(snap_open(path, &rd, &err), 0, "%s", err.msg);
	uint32_t crc = rd.crc;
	snap_close(&rd);
	return crc;
}

TestSuite(layers, .init = setup, .fini = teardown);

Test(layers, a_chain_maps_each_layer_over_its_parent)
{
	const struct page_range all = { 0, NPAGES }, d1[] = { { 3, 2 }, { 40, 1 } },
				d2[] = { { 4, 1 }, { 63, 1 } };
	struct ign_err err = { 0 };
	char path[256];
	void *hva;

	make_snap("s1", NULL, 0, &all, 1, 'a');
	make_snap("s2", "s1", crc_of("s1"), d1, 2, 'b');
	make_snap("s3", "s2", crc_of("s2"), d2, 2, 'c');
	snprintf(path, sizeof(path), "%s/s3", dir);
	cr_assert_eq(layers_map(path, SIZE, &hva, &err), 0, "%s", err.msg);
	const uint8_t *m = hva;
	char want[NPAGES];
	memset(want, 'a', sizeof(want));
	want[3] = want[40] = 'b';   /* s2's pages */
	want[4] = want[63] = 'c';   /* s3's, over s2's page 4 */
	for (unsigned p = 0; p < NPAGES; p++)
		cr_assert_eq(m[p * PG + 100], want[p], "page %u: %c, want %c", p, m[p * PG + 100],
			     want[p]);
	/* private: writes stay in this mapping */
	memset(hva, 'z', PG);
	munmap(hva, SIZE);
	cr_assert_eq(layers_map(path, SIZE, &hva, &err), 0, "%s", err.msg);
	cr_assert_eq(((uint8_t *)hva)[0], 'a', "the file was not written");
	munmap(hva, SIZE);

	/* the parent changes: refused, naming both */
	make_snap("other", NULL, 0, &all, 1, 'x');
	snprintf(path, sizeof(path), "mv %s/other/state %s/s1/state", dir, dir);
	cr_assert_eq(system(path), 0);
	snprintf(path, sizeof(path), "%s/s3", dir);
	cr_assert_lt(layers_map(path, SIZE, &hva, &err), 0);
	cr_assert(strstr(err.msg, "the parent changed") && strstr(err.msg, "s2"), "%s", err.msg);
	cr_assert_null(hva);
	/* a memory file of another size */
	cr_assert_lt(layers_map(path, SIZE * 2, &hva, &err), 0);
	cr_assert(strstr(err.msg, "truncated, or another snapshot's"), "%s", err.msg);
}

Test(layers, ranges_are_checked)
{
	struct ign_err err = { 0 };
	const struct page_range ok[] = { { 0, 1 }, { 5, 3 } }, overlap[] = { { 0, 4 }, { 2, 1 } },
				beyond[] = { { 60, 5 } }, empty[] = { { 1, 0 } };

	cr_assert_eq(layers_check(ok, 2, SIZE, &err), 0, "%s", err.msg);
	cr_assert_lt(layers_check(overlap, 2, SIZE, &err), 0);
	cr_assert_lt(layers_check(beyond, 1, SIZE, &err), 0);
	cr_assert_lt(layers_check(empty, 1, SIZE, &err), 0);
	const struct page_range huge[] = { { ~0ull - 1, 4 } };
	cr_assert_lt(layers_check(huge, 1, SIZE, &err), 0, "first + count overflows");
}

Test(layers, changed_pages_are_the_private_copies)
{
	const struct page_range all = { 0, NPAGES };
	struct page_range *r;
	struct ign_err err = { 0 };
	char path[256];
	unsigned n;
	void *hva;

	make_snap("s1", NULL, 0, &all, 1, 'a');
	snprintf(path, sizeof(path), "%s/s1", dir);
	cr_assert_eq(layers_map(path, SIZE, &hva, &err), 0, "%s", err.msg);
	uint8_t *m = hva;
	volatile uint8_t sink = 0;
	for (unsigned p = 0; p < NPAGES; p++)
		sink += m[p * PG];  /* read: file pages, unchanged */
	(void)sink;
	m[2 * PG] = 1;            /* written: private copies */
	m[10 * PG + 5] = 1;
	m[11 * PG] = 1;
	m[50 * PG] = 1;
	cr_assert_eq(layers_changed(hva, SIZE, &r, &n, &err), 0, "%s", err.msg);
	/* 2 and 10-11 are 8 pages apart, under the merge gap: one run 2..11 */
	cr_assert_eq(n, 2, "%u ranges", n);
	cr_assert_eq(r[0].first, 2);
	cr_assert_eq(r[0].count, 10);
	cr_assert_eq(r[1].first, 50);
	cr_assert_eq(r[1].count, 1);
	free(r);
	munmap(hva, SIZE);
}
