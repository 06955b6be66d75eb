// SPDX-License-Identifier: Apache-2.0
/* The snapshot state file: what is written reads back; anything damaged is refused by name. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot/snapfile.h"

static char dir[64], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ign-snapfile-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(snapfile, .init = setup, .fini = teardown);

static void write_sample(void)
{
	struct snap_buf b = { 0 };
	struct ign_err err = { 0 };
	uint8_t big[3000];

	memset(big, 0xab, sizeof(big));
	snap_begin(&b);
	snap_section(&b, SNAP_META, "vmm=test\n", 9);
	snap_section(&b, SNAP_VM, big, sizeof(big));
	snap_section(&b, SNAP_VCPU, "", 0);
	cr_assert_eq(snap_commit(&b, path, &err), 0, "%s", err.msg);
	snap_buf_free(&b);
}

static uint8_t *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);

	cr_assert_not_null(f);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void spit(const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void refused(const char *want)
{
	struct snap_reader r;
	struct ign_err err = { 0 };

	cr_assert_lt(snap_open(path, &r, &err), 0);
	cr_assert_not_null(strstr(err.msg, want), "error `%s` lacks `%s`", err.msg, want);
}

Test(snapfile, round_trip_in_order)
{
	struct snap_reader r;
	struct ign_err err = { 0 };
	const uint8_t *d;
	size_t n;
	struct stat st;
	char tmp[160];

	write_sample();
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(stat(tmp, &st), 0, "no temporary file left");
	cr_assert_eq(snap_open(path, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.left, 3);
	cr_assert_eq(snap_next(&r, SNAP_META, &d, &n, &err), 0);
	cr_assert_eq(n, 9);
	cr_assert_eq(memcmp(d, "vmm=test\n", 9), 0);
	cr_assert_lt(snap_next(&r, SNAP_VCPU, &d, &n, &err), 0, "sections come in order");
	cr_assert_not_null(strstr(err.msg, "a vm section where a vcpu section is expected"));
	cr_assert_eq(snap_next(&r, SNAP_VM, &d, &n, &err), 0);
	cr_assert_eq(n, 3000);
	cr_assert_eq(d[2999], 0xab);
	cr_assert_eq(snap_next(&r, SNAP_VCPU, &d, &n, &err), 0);
	cr_assert_eq(n, 0);
	cr_assert_lt(snap_next(&r, SNAP_VIRTIO, &d, &n, &err), 0, "no section past the last");
	snap_close(&r);
}

Test(snapfile, damage_is_named)
{
	size_t len;

	write_sample();
	uint8_t *buf = slurp(&len);

	spit(buf, len - 1);
	refused("truncated");
	spit(buf, 10);
	refused("truncated");
	buf[100] ^= 1;
	spit(buf, len);
	refused("CRC mismatch");
	buf[100] ^= 1;
	buf[8] = 9;  /* format version */
	spit(buf, len);
	refused("format version 9");
	buf[8] = 1;
	buf[12] = 2;  /* architecture */
	spit(buf, len);
	refused("architecture 2");
	buf[12] = 1;
	memcpy(buf, "NOTSNAP!", 8);
	spit(buf, len);
	refused("not an ign snapshot");
	free(buf);
	unlink(path);
	refused("No such file");
}

Test(snapfile, section_lengths_are_checked)
{
	uint8_t buf[SNAP_HDR_SIZE + 8 + 4 + 4] = { 0 };
	struct ign_err err = { 0 };
	unsigned n;

	/* a well-formed header whose one section says it is 1000 bytes long */
	memcpy(buf, SNAP_MAGIC, 8);
	buf[8] = SNAP_VERSION;
	buf[12] = SNAP_ARCH_X86_64;
	buf[16] = 1;
	buf[24] = sizeof(buf) - SNAP_HDR_SIZE - 4;
	buf[SNAP_HDR_SIZE] = SNAP_META;
	buf[SNAP_HDR_SIZE + 4] = 0xe8, buf[SNAP_HDR_SIZE + 5] = 0x03;
	cr_assert_lt(snap_check(buf, sizeof(buf), "x", &n, &err), 0);
	cr_assert_not_null(strstr(err.msg, "CRC"), "%s", err.msg);  /* the CRC is checked first */
	uint32_t crc = crc32(0, buf, sizeof(buf) - 4);
	memcpy(buf + sizeof(buf) - 4, &crc, 4);
	cr_assert_lt(snap_check(buf, sizeof(buf), "x", &n, &err), 0);
	cr_assert_not_null(strstr(err.msg, "section 0 of 1000 bytes runs past the end"), "%s",
			   err.msg);
	buf[SNAP_HDR_SIZE + 4] = 4, buf[SNAP_HDR_SIZE + 5] = 0;  /* 4 bytes: exactly fits */
	crc = crc32(0, buf, sizeof(buf) - 4);
	memcpy(buf + sizeof(buf) - 4, &crc, 4);
	cr_assert_eq(snap_check(buf, sizeof(buf), "x", &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
}
