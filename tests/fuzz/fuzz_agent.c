// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the agent protocol's decoders (docs/agent-protocol.md),
 * both ways, since each end distrusts the other. The input is a byte stream
 * of frames (u32 length + JSON) as it would arrive on a connection:
 *  - the shim's side reads it as the guest's control connection (replies
 *    and exit events, ign_agent_read_event) until the stream fails or ends;
 *  - ign-init's side reads the same bytes as frames from the host and
 *    decodes each "spawn" into a process spec (spec_parse).
 * Besides ASan/UBSan: a recorded exit must have an id that fits.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "ign/frame.h"
#include "spec.h"

/* A pipe holding the input, write end closed: a connection that ends after it. */
static int stream(const uint8_t *data, size_t size)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	return p[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ign_agent a = { .io_timeout_ms = 1000 };
	struct ign_err err;
	struct ign_json *m;
	int status;

	if (size > (1u << 20))
		return 0;
	a.ctl = stream(data, size);
	while (ign_agent_read_event(&a, &err) == 0)
		;
	for (unsigned i = 0; i < a.nexits; i++)
		if (strlen(a.exits[i].id) >= sizeof(a.exits[i].id) ||
		    !ign_agent_exited(&a, a.exits[i].id, &status))
			abort();
	close(a.ctl);

	int fd = stream(data, size);
	while (ign_frame_read(fd, &m, &err) > 0) {
		struct spec *s;
		if (strcmp(ign_frame_type(m), "spawn")) {
			ign_json_free(m);
			continue;
		}
		if (spec_parse(m, &s, &err) == 0) {
			if (!s->argv || !s->argv[0] || s->nmounts > SPEC_MAX_MOUNTS)
				abort();  /* a spawn that execs nothing must be refused */
			spec_free(s);
		}
	}
	close(fd);
	return 0;
}
