// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: a bundle's config.json, as `ign-runtime create` reads it
 * (ign_oci_parse: the JSON wrapper, then every check that names a JSON path).
 * The bundle author is not trusted either: any input must give a parsed
 * config or one error, never a crash, a leak or a hang. What was accepted is
 * walked the way create walks it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ign_oci_config cfg;
	struct ign_err err;
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	if (ign_oci_parse(text, &cfg, &err) == 0) {
		size_t n = strlen(cfg.rootfs);
		for (unsigned i = 0; i < cfg.nmounts; i++)
			n += strlen(cfg.mounts[i].destination) + strlen(cfg.mounts[i].type) +
			     strlen(cfg.mounts[i].source);
		for (int k = 0; k < IGN_HOOK_KINDS; k++)
			for (unsigned i = 0; i < cfg.nhooks[k]; i++)
				for (const char **a = cfg.hooks[k][i].args; a && *a; a++)
					n += strlen(*a);
		if (cfg.vcpus == 0 || cfg.vcpus > IGN_OCI_MAX_VCPUS || cfg.mem_mib < IGN_OCI_MIN_MEM_MIB)
			abort();  /* create would start a VM it must refuse */
		(void)n;
	} else if (!err.msg[0]) {
		abort();  /* a refusal must say why */
	}
	ign_oci_free(&cfg);
	free(text);
	return 0;
}
