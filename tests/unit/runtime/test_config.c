// SPDX-License-Identifier: Apache-2.0
/* config.json parsing: valid bundles, malformed JSON, wrong types, paths in errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static const char *valid =
	"{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"process\":{\"terminal\":true,\"args\":[\"sh\",\"-c\",\"true\"],\"cwd\":\"/\","
	"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":1,\"gid\":2},"
	"\"consoleSize\":{\"height\":24,\"width\":80}},"
	"\"hostname\":\"box\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/tmp/h\",\"options\":[\"rbind\",\"ro\"]}],"
	"\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\",\"x\"],\"timeout\":5}],"
	"\"poststop\":[{\"path\":\"/bin/false\"}]},"
	"\"annotations\":{\"a\":\"b\"},"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/run/netns/x\"}],"
	"\"resources\":{\"memory\":{\"limit\":536870912},\"cpu\":{\"quota\":150000,\"period\":100000}}}}";

/* Parses text, expecting failure with a message containing want. */
static void fails(const char *text, const char *want)
{
	struct ign_oci_config c;
	struct ign_err err = { 0 };

	cr_assert_lt(ign_oci_parse(text, &c, &err), 0, "accepted: %s", text);
	cr_assert(strstr(err.msg, want), "error `%s` lacks `%s`", err.msg, want);
	ign_oci_free(&c);
}

/* A copy of valid with the first `from` replaced by `to`. */
static char *edit(const char *from, const char *to)
{
	static char buf[4096];
	const char *at = strstr(valid, from);

	cr_assert(at, "no `%s` in the valid config", from);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - valid), valid, to, at + strlen(from));
	return buf;
}

Test(config, valid_bundle_decodes)
{
	struct ign_oci_config c;
	struct ign_err err = { 0 };

	cr_assert_eq(ign_oci_parse(valid, &c, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.oci_version, "1.0.2-dev");
	cr_assert_str_eq(c.rootfs, "rootfs");
	cr_assert(c.rootfs_readonly);
	cr_assert(c.terminal);
	cr_assert_str_eq(c.hostname, "box");
	cr_assert_eq(c.nmounts, 2);
	cr_assert_str_eq(c.mounts[1].destination, "/etc/hosts");
	cr_assert_str_eq(c.mounts[1].type, "bind");
	cr_assert_str_eq(c.netns, "/run/netns/x");
	cr_assert_eq(c.mem_mib, 512);
	cr_assert_eq(c.vcpus, 2, "150%% of a CPU rounds up to 2 vCPUs");
	cr_assert_eq(c.nhooks[IGN_HOOK_PRESTART], 1);
	cr_assert_str_eq(c.hooks[IGN_HOOK_PRESTART][0].args[1], "x");
	cr_assert_eq(c.hooks[IGN_HOOK_PRESTART][0].timeout, 5);
	cr_assert_eq(c.nhooks[IGN_HOOK_POSTSTOP], 1);
	cr_assert_str_eq(ign_oci_annotation(&c, "a"), "b");
	cr_assert_null(ign_oci_annotation(&c, "nope"));
	ign_oci_free(&c);
}

Test(config, defaults_without_limits)
{
	struct ign_oci_config c;
	struct ign_err err = { 0 };
	const char *min = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/r\"},"
			  "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"}}";

	cr_assert_eq(ign_oci_parse(min, &c, &err), 0, "%s", err.msg);
	cr_assert_eq(c.vcpus, 1);
	cr_assert_eq(c.mem_mib, IGN_OCI_DEFAULT_MEM_MIB);
	cr_assert_null(c.netns);
	cr_assert_null(c.hostname);
	ign_oci_free(&c);
}

Test(config, annotations_override_resources)
{
	struct ign_oci_config c;
	struct ign_err err = { 0 };

	cr_assert_eq(ign_oci_parse(edit("\"annotations\":{\"a\":\"b\"}",
					"\"annotations\":{\"io.ign.vcpus\":\"4\",\"io.ign.memory_mib\":\"1024\"}"),
				   &c, &err), 0, "%s", err.msg);
	cr_assert_eq(c.vcpus, 4);
	cr_assert_eq(c.mem_mib, 1024);
	ign_oci_free(&c);
	fails(edit("\"annotations\":{\"a\":\"b\"}", "\"annotations\":{\"io.ign.vcpus\":\"lots\"}"),
	      "annotations[\"io.ign.vcpus\"]");
	fails(edit("\"annotations\":{\"a\":\"b\"}", "\"annotations\":{\"io.ign.memory_mib\":\"8\"}"),
	      "below");
}

Test(config, malformed_json)
{
	fails("{\"ociVersion\":", "invalid JSON");
	fails("", "invalid JSON");
	fails("[1,2]", "(top level): expected an object");
}

Test(config, versions)
{
	fails(edit("1.0.2-dev", "2.0.0"), "ociVersion: `2.0.0` is not supported");
	fails(edit("1.0.2-dev", "1.3.0"), "not supported");
	fails(edit("\"ociVersion\":\"1.0.2-dev\",", ""), "ociVersion: missing");
	struct ign_oci_config c;
	cr_assert_eq(ign_oci_parse(edit("1.0.2-dev", "1.1.0"), &c, NULL), 0);
	ign_oci_free(&c);
}

Test(config, wrong_types_name_the_path)
{
	fails(edit("[\"sh\",\"-c\",\"true\"]", "\"sh\""), "process.args: expected an array");
	fails(edit("[\"sh\",\"-c\",\"true\"]", "[\"sh\",3]"), "process.args[1]");
	fails(edit("[\"sh\",\"-c\",\"true\"]", "[]"), "process.args: missing or empty");
	fails(edit("\"terminal\":true", "\"terminal\":\"yes\""), "process.terminal");
	fails(edit("\"uid\":1", "\"uid\":\"root\""), "process.user.uid");
	fails(edit("\"cwd\":\"/\"", "\"cwd\":\"relative\""), "process.cwd: `relative` is not an absolute");
	fails(edit("\"cwd\":\"/\",", ""), "process.cwd: missing");
	fails(edit("\"root\":{\"path\":\"rootfs\",\"readonly\":true}", "\"root\":{}"), "root.path: missing");
	fails(edit("\"destination\":\"/proc\"", "\"destination\":7"), "mounts[0].destination");
	fails(edit("\"options\":[\"rbind\",\"ro\"]", "\"options\":\"ro\""), "mounts[1].options");
	fails(edit("\"limit\":536870912", "\"limit\":\"512m\""), "linux.resources.memory.limit");
	fails(edit("\"limit\":536870912", "\"limit\":1048576"), "below the 64 MiB");
	fails(edit("\"path\":\"/bin/true\"", "\"path\":\"true\""), "hooks.prestart[0].path");
	fails(edit("\"timeout\":5", "\"timeout\":0"), "hooks.prestart[0].timeout");
	fails(edit("\"a\":\"b\"", "\"a\":1"), "annotations[\"a\"]");
	fails(edit("\"type\":\"network\",", ""), "linux.namespaces[1].type: missing");
}

Test(config, process_is_required)
{
	fails("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}", "process: expected an object");
}
