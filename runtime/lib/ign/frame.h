/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host/guest agent protocol's framing (docs/agent-protocol.md): each
 * message is a little-endian u32 length followed by that many bytes of one
 * JSON object. Both ends bound the length; neither trusts the other's.
 */
#ifndef IGN_FRAME_H
#define IGN_FRAME_H

#include <stddef.h>

#include "ign/err.h"
#include "ign/json.h"

#define IGN_AGENT_PORT 1024        /* ign-init's vsock port */
#define IGN_AGENT_VERSION 1
#define IGN_FRAME_MAX (1u << 20)

/* Writes one frame (blocking). */
int ign_frame_write(int fd, const char *json, struct ign_err *err);
/*
 * Reads one frame (blocking) and parses it; the message must be a JSON object
 * with a string "type". Returns 1 with *out set, 0 at a clean end of stream
 * (no byte of a new frame read), <0 on errors.
 */
int ign_frame_read(int fd, struct ign_json **out, struct ign_err *err);
/* The message's "type", or "" if it has none. */
const char *ign_frame_type(const struct ign_json *msg);

#endif
