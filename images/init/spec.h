/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A process to run, from a "spawn" message (docs/agent-protocol.md): the
 * OCI runtime spec's process object plus, for the container's main process,
 * its hostname and mounts. Strings point into the parsed message, which
 * lives as long as the spec.
 */
#ifndef IGN_INIT_SPEC_H
#define IGN_INIT_SPEC_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "ign/err.h"
#include "ign/json.h"

#define SPEC_MAX_GIDS 64
#define SPEC_MAX_RLIMITS 16
#define SPEC_MAX_MOUNTS 64

struct spec_rlimit {
	int resource;
	struct rlimit lim;
};

struct spec_mount {
	const char *destination, *type, *source;
	const char *file_data;   /* type "ign-file": the file's contents */
	unsigned file_mode;
	unsigned long flags;     /* MS_* from the options */
	unsigned long propagation;  /* MS_PRIVATE, MS_SHARED...; 0: none */
	char *data;              /* the options mount(2) does not know as flags */
};

/* The guest's network interface, as the host found the container's (main process only). */
struct spec_net {
	int present;
	const char *address;     /* "10.88.0.4/16" */
	const char *gateway;     /* "" or NULL: none */
	unsigned mtu;
	int has_mac;             /* the interface takes this MAC (a clone's own) */
	uint8_t mac[6];
};

struct spec {
	struct ign_json *msg;    /* owns every string below */
	const char **argv, **envp;  /* NULL-terminated */
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t gids[SPEC_MAX_GIDS];
	unsigned ngids;
	struct spec_rlimit rlimits[SPEC_MAX_RLIMITS];
	unsigned nrlimits;
	int terminal;
	unsigned short rows, cols;
	const char *hostname;    /* NULL: leave it */
	struct spec_mount mounts[SPEC_MAX_MOUNTS];
	unsigned nmounts;
	struct spec_net net;
};

/* Takes msg (a "spawn" message) whether it succeeds or not. */
int spec_parse(struct ign_json *msg, struct spec **out, struct ign_err *err);
void spec_free(struct spec *s);
/* Parses OCI mount options ("ro", "nosuid", "mode=755"...) into m. */
int spec_mount_options(const struct ign_json *opts, const char *path, struct spec_mount *m,
		       struct ign_err *err);

#endif
