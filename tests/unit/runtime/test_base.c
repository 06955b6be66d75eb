// SPDX-License-Identifier: Apache-2.0
/* Warm bases' names, build, list and drop (runtime/base), on a temp directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "ign/fdio.h"

static char dir[64], kernel[128], initrd[128], bases[128];

static void put(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(data, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ign-base-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(kernel, sizeof(kernel), "%s/vmlinux", dir);
	snprintf(initrd, sizeof(initrd), "%s/init.cpio.gz", dir);
	snprintf(bases, sizeof(bases), "%s/.bases", dir);
	put(kernel, "kernel 1");
	put(initrd, "initrd 1");
}

static void teardown(void)
{
	cr_assert_eq(ign_rm_rf(dir), 0);
}

/* A base as the shim builds one: a build directory with a snapshot, committed. */
static void make_base(const struct ign_base_profile *p, char name[IGN_BASE_NAME_MAX])
{
	struct ign_err err = { 0 };
	char build[PATH_MAX], snap[PATH_MAX + 32];

	cr_assert_eq(ign_base_name(p, name, &err), 0, "%s", err.msg);
	int lock = ign_base_lock(bases, name, &err);
	cr_assert_geq(lock, 0, "%s", err.msg);
	cr_assert_eq(ign_base_build_dir(bases, name, build, &err), 0, "%s", err.msg);
	snprintf(snap, sizeof(snap), "%s/snapshot", build);
	cr_assert_eq(mkdir(snap, 0700), 0);
	strcat(snap, "/state");
	put(snap, "state");
	cr_assert_eq(ign_base_commit(bases, name, build, p, &err), 0, "%s", err.msg);
	close(lock);
}

TestSuite(base, .init = setup, .fini = teardown);

Test(base, name_follows_the_profile_and_the_files)
{
	struct ign_base_profile p = { kernel, initrd, 1, 256, NULL };
	struct ign_err err = { 0 };
	char a[IGN_BASE_NAME_MAX], b[IGN_BASE_NAME_MAX];

	cr_assert_eq(ign_base_name(&p, a, &err), 0, "%s", err.msg);
	cr_assert_eq(strncmp(a, "1cpu-256M-", 10), 0, "%s", a);
	cr_assert_eq(strlen(a), 10 + 16);
	cr_assert_eq(ign_base_name(&p, b, &err), 0);
	cr_assert_str_eq(a, b, "stable");
	p.vcpus = 2;
	cr_assert_eq(ign_base_name(&p, b, &err), 0);
	cr_assert_str_neq(a + 10, b + 10, "vCPUs are in the digest too");
	p.vcpus = 1;
	p.cmdline = "console=ttyS0 idle=halt";
	cr_assert_eq(ign_base_name(&p, b, &err), 0);
	cr_assert_str_neq(a, b, "the guest's command line is in the digest");
	p.cmdline = NULL;
	/* an application base: the profile's name, then a digest of the bundle */
	char app[IGN_BASE_NAME_MAX], app2[IGN_BASE_NAME_MAX];
	cr_assert_eq(ign_base_app_name(a, "config A", 8, app, &err), 0, "%s", err.msg);
	cr_assert_eq(strncmp(app, a, strlen(a)), 0, "%s", app);
	cr_assert_eq(strncmp(app + strlen(a), "-app-", 5), 0, "%s", app);
	cr_assert_eq(strlen(app), strlen(a) + 5 + 16);
	cr_assert_eq(ign_base_app_name(a, "config B", 8, app2, &err), 0);
	cr_assert_str_neq(app, app2, "another bundle, another base");
	put(initrd, "initrd 2, a new ign-init");
	cr_assert_eq(ign_base_name(&p, b, &err), 0);
	cr_assert_str_neq(a, b, "a new initrd is a new base");
	p.kernel = "/nonexistent/vmlinux";
	cr_assert_lt(ign_base_name(&p, b, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/vmlinux"), "%s", err.msg);
}

Test(base, build_list_and_drop)
{
	struct ign_base_profile p1 = { kernel, initrd, 1, 256, NULL }, p2 = { kernel, initrd, 2, 512, NULL };
	struct ign_err err = { 0 };
	struct ign_base_info *list;
	char n1[IGN_BASE_NAME_MAX], n2[IGN_BASE_NAME_MAX], snap[PATH_MAX];
	unsigned n;

	cr_assert_eq(ign_base_list(bases, &list, &n, &err), 0, "no directory yet: %s", err.msg);
	cr_assert_eq(n, 0);
	free(list);
	make_base(&p1, n1);
	make_base(&p2, n2);
	cr_assert(ign_base_snapshot(bases, n1, snap));
	cr_assert(strstr(snap, n1) && strstr(snap, "/snapshot"), "%s", snap);

	/* a crashed build's leftovers are not bases, and the next build removes them */
	char junk[PATH_MAX];
	snprintf(junk, sizeof(junk), "%s/.build-%s-99999", bases, n1);
	cr_assert_eq(mkdir(junk, 0700), 0);
	cr_assert_eq(ign_base_list(bases, &list, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0].name, n1);
	cr_assert_eq(list[0].vcpus, 1);
	cr_assert_eq(list[0].mem_mib, 256);
	cr_assert_str_eq(list[0].kernel, kernel);
	cr_assert_gt(list[0].created, 0);
	cr_assert_eq(list[1].vcpus, 2);
	free(list);
	char build[PATH_MAX];
	cr_assert_eq(ign_base_build_dir(bases, n1, build, &err), 0, "%s", err.msg);
	cr_assert_neq(access(junk, F_OK), 0, "leftover removed");
	ign_rm_rf(build);

	cr_assert_eq(ign_base_drop(bases, n1, &err), 0, "%s", err.msg);
	cr_assert_not(ign_base_snapshot(bases, n1, snap));
	cr_assert_eq(ign_base_drop(bases, n1, &err), -ENOENT);
	cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
	cr_assert_eq(ign_base_drop(bases, "../etc", &err), -EINVAL);
	cr_assert_eq(ign_base_list(bases, &list, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(list[0].name, n2);
	free(list);
}
