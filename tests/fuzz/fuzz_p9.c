// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: an untrusted guest speaking 9P2000.L to the file server
 * over a real directory. Each input is a session (Tversion and Tattach of
 * fid 0 are sent first) followed by messages, each `len[2] type[1] body`;
 * the first byte picks a read-only share. Besides ASan/UBSan, the oracle is
 * the directory around the share: it holds the share and one sentinel file,
 * and anything the guest changes there is an escape (abort).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p9/p9.h"
#include "p9/wire.h"

#define SENTINEL "outside the share"

static char top[64], share[96], sentinel[96];
static uint8_t req[P9_MSIZE_MAX], rep[P9_MSIZE_MAX];

static void cleanup(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_p9: could not remove %s\n", top);
}

static void setup(void)
{
	char p[160];
	FILE *f;

	snprintf(top, sizeof(top), "/tmp/ign-fuzz-p9-XXXXXX");
	if (!mkdtemp(top))
		abort();
	atexit(cleanup);
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(sentinel, sizeof(sentinel), "%s/outside", top);
	if (mkdir(share, 0755) < 0 || !(f = fopen(sentinel, "w")))
		abort();
	fputs(SENTINEL, f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/file", share);
	if (!(f = fopen(p, "w")))
		abort();
	fputs("inside", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/dir", share);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/up", share);
	symlink("../outside", p);
	snprintf(p, sizeof(p), "%s/root", share);
	symlink("/", p);
}

static void check_outside(void)
{
	char buf[64] = { 0 };
	FILE *f = fopen(sentinel, "r");
	struct dirent *e;
	int n = 0;

	if (!f || !fread(buf, 1, sizeof(buf) - 1, f) || strcmp(buf, SENTINEL))
		abort();
	fclose(f);
	DIR *d = opendir(top);
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (!d || n != 2)
		abort();
	closedir(d);
}

static void send(struct p9_server *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct ign_err err;
	struct p9_wr w = { .p = req, .cap = sizeof(req) };

	p9_begin(&w, type, 1);
	p9_putmem(&w, body, len);
	size_t n = p9_end(&w);
	if (n)
		p9_serve(s, req, n, rep, sizeof(rep), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t version[] = { 0, 0, 2, 0, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L' };
	static const uint8_t attach[] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct p9_server *s;
	struct ign_err err;

	if (!top[0])
		setup();
	if (size < 1 || p9_server_create(share, data[0] & 1, &s, &err) < 0)
		return 0;
	send(s, P9_TVERSION, version, sizeof(version));
	send(s, P9_TATTACH, attach, sizeof(attach));
	for (size_t i = 1; i + 3 <= size;) {
		size_t len = data[i] | data[i + 1] << 8;
		uint8_t type = data[i + 2];
		i += 3;
		if (len > size - i)
			len = size - i;
		send(s, type, data + i, len);
		i += len;
	}
	p9_server_destroy(s);
	check_outside();
	return 0;
}
