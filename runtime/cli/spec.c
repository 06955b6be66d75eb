// SPDX-License-Identifier: Apache-2.0
/* spec [--bundle DIR]: a default config.json that runs `sh` with a terminal in our VM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ign/fdio.h"

static const char default_spec[] =
	"{\n"
	"  \"ociVersion\": \"1.0.2\",\n"
	"  \"process\": {\n"
	"    \"terminal\": true,\n"
	"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
	"    \"args\": [ \"sh\" ],\n"
	"    \"env\": [\n"
	"      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"      \"TERM=xterm\"\n"
	"    ],\n"
	"    \"cwd\": \"/\",\n"
	"    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
	"  \"hostname\": \"ign\",\n"
	"  \"mounts\": [\n"
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\" ] },\n"
	"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
	"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] }\n"
	"  ],\n"
	"  \"annotations\": { \"io.ign.vcpus\": \"1\", \"io.ign.memory_mib\": \"256\" },\n"
	"  \"linux\": {\n"
	"    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
	"                    { \"type\": \"uts\" }, { \"type\": \"mount\" } ]\n"
	"  }\n"
	"}\n";

int cmd_spec(struct globals *g, int argc, char **argv, struct ign_err *err)
{
	static const struct option longs[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "rootless", no_argument, NULL, 'r' },
		{ 0 },
	};
	const char *bundle = ".";
	char path[4096];
	int opt;

	(void)g;
	while ((opt = getopt_long(argc, argv, "+b:", longs, NULL)) != -1) {
		if (opt == 'b')
			bundle = optarg;
		else if (opt != 'r')
			return ign_err_setx(err, EINVAL, "spec: --bundle DIR");
	}
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? ign_err_setx(err, EEXIST, "File %s exists. Remove it first",
						      path)
				       : ign_err_set(err, errno, "%s", path);
	int r = ign_write_all(fd, default_spec, sizeof(default_spec) - 1);
	close(fd);
	return r < 0 ? ign_err_set(err, -r, "%s", path) : 0;
}
