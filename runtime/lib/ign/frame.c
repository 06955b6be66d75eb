// SPDX-License-Identifier: Apache-2.0
#include "ign/frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"

int ign_frame_write(int fd, const char *json, struct ign_err *err)
{
	size_t n = strlen(json);
	uint8_t hdr[4] = { n, n >> 8, n >> 16, n >> 24 };
	int r;

	if (n > IGN_FRAME_MAX)
		return ign_err_setx(err, EMSGSIZE, "message of %zu bytes is over %u", n,
				    IGN_FRAME_MAX);
	if ((r = ign_write_all(fd, hdr, 4)) < 0 || (r = ign_write_all(fd, json, n)) < 0)
		return ign_err_set(err, -r, "send message");
	return 0;
}

int ign_frame_read(int fd, struct ign_json **out, struct ign_err *err)
{
	uint8_t hdr[4];
	ssize_t got = ign_read_full(fd, hdr, 4);
	int r;

	if (got == 0)
		return 0;
	if (got < 0)
		return ign_err_set(err, -got, "receive message");
	if (got < 4)
		return ign_err_setx(err, EPROTO, "connection closed inside a message header");
	uint32_t n = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	if (n > IGN_FRAME_MAX)
		return ign_err_setx(err, EMSGSIZE, "message of %u bytes is over %u", n,
				    IGN_FRAME_MAX);
	cleanup_free char *buf = malloc(n + 1);
	if (!buf)
		return ign_err_set(err, ENOMEM, "receive message");
	got = ign_read_full(fd, buf, n);
	if (got < 0)
		return ign_err_set(err, -got, "receive message");
	if ((size_t)got < n)
		return ign_err_setx(err, EPROTO, "connection closed inside a %u-byte message", n);
	buf[n] = 0;
	if (memchr(buf, 0, n))
		return ign_err_setx(err, EPROTO, "message contains a NUL byte");
	struct ign_json *msg;
	if ((r = ign_json_parse(buf, &msg, err)) < 0)
		return ign_err_wrap(err, "message");
	if (ign_json_type(msg) != IGN_JSON_OBJECT || !*ign_frame_type(msg)) {
		ign_json_free(msg);
		return ign_err_setx(err, EPROTO, "message is not an object with a \"type\"");
	}
	*out = msg;
	return 1;
}

const char *ign_frame_type(const struct ign_json *msg)
{
	const struct ign_json *t = ign_json_member(msg, "type");

	if (ign_json_type(t) != IGN_JSON_STRING)
		return "";
	const char *s = "";
	ign_json_string(t, "type", &s, NULL);
	return s;
}
