/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bundle's config.json (the OCI runtime spec), read through the JSON
 * wrapper and checked: every error names the JSON path ("process.args[1]:
 * expected a string"). Strings point into the parsed tree, which the config
 * owns. Only what a VM runtime uses is decoded; the process object also goes
 * to the guest as it is (ign-init checks it again).
 */
#ifndef IGN_OCI_CONFIG_H
#define IGN_OCI_CONFIG_H

#include <stdint.h>

#include "ign/err.h"
#include "ign/json.h"

#define IGN_OCI_DEFAULT_MEM_MIB 256
#define IGN_OCI_MIN_MEM_MIB 64
#define IGN_OCI_MAX_VCPUS 32

enum ign_hook_kind {
	IGN_HOOK_PRESTART, IGN_HOOK_CREATE_RUNTIME, IGN_HOOK_CREATE_CONTAINER,
	IGN_HOOK_START_CONTAINER, IGN_HOOK_POSTSTART, IGN_HOOK_POSTSTOP, IGN_HOOK_KINDS,
};

struct ign_oci_hook {
	const char *path;
	const char **args, **env;   /* NULL-terminated, may be NULL */
	int timeout;                /* seconds; 0: none */
};

struct ign_oci_mount {
	const char *destination, *type, *source;  /* type/source: "" when absent */
	const struct ign_json *options;           /* array of strings, or NULL */
};

struct ign_oci_config {
	struct ign_json *root;
	const char *oci_version;
	const char *rootfs;          /* root.path as written (may be relative) */
	int rootfs_readonly;
	const struct ign_json *process;
	int terminal;
	const char *hostname;        /* NULL: none */
	struct ign_oci_mount *mounts;
	unsigned nmounts;
	const struct ign_json *annotations;  /* object or NULL */
	const char *netns;           /* linux.namespaces network path; NULL: a new one */
	unsigned vcpus;              /* from the CPU quota or io.ign.vcpus */
	uint64_t mem_mib;            /* from the memory limit or io.ign.memory_mib */
	const char *vm_kernel, *vm_initrd, *vm_params;  /* the spec's optional "vm" section */
	struct ign_oci_hook *hooks[IGN_HOOK_KINDS];
	unsigned nhooks[IGN_HOOK_KINDS];
};

/* Parses and checks text; *cfg is zeroed first and must be freed either way. */
int ign_oci_parse(const char *text, struct ign_oci_config *cfg, struct ign_err *err);
/* Reads `<bundle>/config.json` and parses it. */
int ign_oci_load(const char *bundle, struct ign_oci_config *cfg, struct ign_err *err);
void ign_oci_free(struct ign_oci_config *cfg);
const char *ign_hook_name(enum ign_hook_kind k);
/* The value of annotation key, or NULL. */
const char *ign_oci_annotation(const struct ign_oci_config *cfg, const char *key);

#endif
