// SPDX-License-Identifier: Apache-2.0
/* features: what this runtime supports, as the runtime spec's features document. */
#include <stdio.h>

#include "cli.h"

int cmd_features(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	(void)g, (void)argc, (void)argv, (void)err;
	printf("{\n"
	       "  \"ociVersionMin\": \"1.0.0\",\n"
	       "  \"ociVersionMax\": \"1.2.0\",\n"
	       "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
	       "\"startContainer\", \"poststart\", \"poststop\"],\n"
	       "  \"mountOptions\": [\"ro\", \"rw\", \"nosuid\", \"suid\", \"nodev\", \"dev\", "
	       "\"noexec\", \"exec\", \"bind\", \"rbind\", \"relatime\", \"noatime\"],\n"
	       "  \"linux\": {\n"
	       "    \"namespaces\": [\"network\"],\n"
	       "    \"cgroup\": { \"v1\": false, \"v2\": false, \"systemd\": false },\n"
	       "    \"seccomp\": { \"enabled\": false },\n"
	       "    \"apparmor\": { \"enabled\": false },\n"
	       "    \"selinux\": { \"enabled\": false }\n"
	       "  },\n"
	       "  \"annotations\": {\n"
	       "    \"io.ign.runtime.isolation\": \"kvm-microvm\",\n"
	       "    \"io.ign.vcpus\": \"vCPUs of the container's VM\",\n"
	       "    \"io.ign.memory_mib\": \"memory of the container's VM in MiB\"\n"
	       "  }\n"
	       "}\n");
	return 0;
}
