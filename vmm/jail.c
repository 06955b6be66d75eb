// SPDX-License-Identifier: Apache-2.0
/*
 * The VMM's own mount namespace (docs/security.md), after Firecracker's
 * jailer: once every file the VM needs is open, the process moves into a
 * new mount namespace whose root is an empty read-only tmpfs holding only
 * /proc and the directories it must still reach by name (its vsock socket's,
 * the one a snapshot is written into, a shim's state directory), each bound
 * at its own path. The host's file system is gone from view: a VMM that the
 * guest took over finds nothing else to open.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ign/fdio.h"
#include "ign/vmm.h"

#define OLD_ROOT "/.old-root"

static int bind_into(const char *root, const char *path, struct ign_err *err)
{
	char at[PATH_MAX];
	int r;

	if (path[0] != '/')
		return ign_err_setx(err, EINVAL, "jail: `%s` is not an absolute path", path);
	if ((size_t)snprintf(at, sizeof(at), "%s%s", root, path) >= sizeof(at))
		return ign_err_setx(err, ENAMETOOLONG, "jail: `%s` is too long", path);
	if ((r = ign_mkdir_p(at, 0755)) < 0)
		return ign_err_set(err, -r, "jail: make `%s`", at);
	/* not recursive: the jail's own root may lie inside path */
	if (mount(path, at, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, at, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ign_err_set(err, errno, "jail: bind `%s`", path);
	return 0;
}

int ign_vm_jail(const char *dir, const char *const *keep, unsigned nkeep, struct ign_err *err)
{
	char at[PATH_MAX];
	int r;

	if ((r = ign_mkdir_p(dir, 0700)) < 0)
		return ign_err_set(err, -r, "jail: directory `%s`", dir);
	if (unshare(CLONE_NEWNS) < 0)
		return ign_err_set(err, errno, "jail: new mount namespace");
	/* nothing done here reaches the host's namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ign_err_set(err, errno, "jail: make mounts private");
	if (mount("ign-jail", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") < 0)
		return ign_err_set(err, errno, "jail: tmpfs on `%s`", dir);
	/*
	 * A new proc instance; where the kernel refuses one (a /proc with parts
	 * masked, as in a container), the one we have, bound.
	 */
	snprintf(at, sizeof(at), "%s/proc", dir);
	if (mkdir(at, 0555) < 0 ||
	    (mount("proc", at, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	     mount("/proc", at, NULL, MS_BIND | MS_REC, NULL) < 0))
		return ign_err_set(err, errno, "jail: /proc");
	for (unsigned i = 0; i < nkeep; i++)
		if (keep[i] && (r = bind_into(dir, keep[i], err)) < 0)
			return r;
	snprintf(at, sizeof(at), "%s" OLD_ROOT, dir);
	if (mkdir(at, 0700) < 0 || syscall(SYS_pivot_root, dir, at) < 0)
		return ign_err_set(err, errno, "jail: pivot_root to `%s`", dir);
	if (chdir("/") < 0 || umount2(OLD_ROOT, MNT_DETACH) < 0 || rmdir(OLD_ROOT) < 0)
		return ign_err_set(err, errno, "jail: leave the old root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return ign_err_set(err, errno, "jail: make the root read-only");
	return 0;
}
