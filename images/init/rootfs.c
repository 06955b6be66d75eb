// SPDX-License-Identifier: Apache-2.0
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ign/fdio.h"

#define STAGE "/.ign"
#ifndef BLKGETSIZE64  /* <linux/fs.h>, which clashes with <sys/mount.h> */
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif

static int mount_at(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *data, struct ign_err *err)
{
	int r = ign_mkdir_p(dst, 0755);

	if (r < 0)
		return ign_err_set(err, -r, "mkdir `%s`", dst);
	if (mount(src, dst, type, flags, data) < 0)
		return ign_err_set(err, errno, "mount %s `%s` on `%s`", type ? type : "", src, dst);
	return 0;
}

/*
 * The disk shows up while the kernel probes virtio; give it a moment. In a
 * clone of a warm base it is there from the start, empty, and gets its size
 * when the kernel handles the restore's configuration change interrupt.
 */
static int wait_for(const char *dev, struct ign_err *err)
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 1000; i++) {
		uint64_t bytes = 0;
		int fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			bytes = 0;
		if (fd >= 0)
			close(fd);
		if (bytes)
			return 0;
		nanosleep(&tick, NULL);
	}
	return ign_err_setx(err, ENODEV, "root disk `%s` did not appear in 2 s (is the image "
			    "attached as the first --disk?)", dev);
}

int rootfs_setup(const struct root_config *cfg, struct ign_err *err)
{
	const char *types[] = { cfg->fstype ? cfg->fstype : "erofs", cfg->fstype ? NULL : "ext4" };
	char opts[64];
	int r = -EINVAL;

	if ((r = wait_for(cfg->device, err)) < 0)
		return r;
	for (unsigned i = 0; i < 2 && types[i]; i++) {
		r = mount_at(cfg->device, STAGE "/lower", types[i], MS_RDONLY, NULL, err);
		if (r == 0 || (r != -EINVAL && r != -ENODEV))
			break;
	}
	if (r < 0)
		return ign_err_wrap(err, "root image (erofs or ext4 expected)");
	snprintf(opts, sizeof(opts), "mode=0755,size=%s", cfg->upper_size ? cfg->upper_size : "50%");
	if ((r = mount_at("ign-rw", STAGE "/rw", "tmpfs", 0, opts, err)) < 0)
		return r;
	if (mkdir(STAGE "/rw/upper", 0755) < 0 || mkdir(STAGE "/rw/work", 0755) < 0)
		return ign_err_set(err, errno, "overlay directories");
	if ((r = mount_at("overlay", STAGE "/root", "overlay", 0,
			  "lowerdir=" STAGE "/lower,upperdir=" STAGE "/rw/upper,workdir=" STAGE
			  "/rw/work", err)) < 0)
		return r;
	if (chdir(STAGE "/root") < 0)
		return ign_err_set(err, errno, "chdir to the new root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return ign_err_set(err, errno, "move the overlay onto /");
	if (chroot(".") < 0 || chdir("/") < 0)
		return ign_err_set(err, errno, "enter the new root");
	if ((r = mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)) < 0 ||
	    (r = mount_at("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)) < 0 ||
	    (r = mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err)) < 0 ||
	    (r = mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=0620,gid=5", err)) < 0 ||
	    (r = mount_at("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
			  "mode=1777", err)) < 0)
		return r;
	/* /dev/ptmx must be the devpts instance's, for ptys inside the root. */
	unlink("/dev/ptmx");
	if (symlink("pts/ptmx", "/dev/ptmx") < 0)
		return ign_err_set(err, errno, "/dev/ptmx");
	return 0;
}

/* ign-init already gave the root these; a spec's copies of them are kept as they are. */
static int already_mounted(const struct spec_mount *m)
{
	static const struct { const char *dst, *type; } base[] = {
		{ "/proc", "proc" }, { "/sys", "sysfs" }, { "/dev", "tmpfs" },
		{ "/dev", "devtmpfs" }, { "/dev/pts", "devpts" }, { "/dev/shm", "tmpfs" },
	};

	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (!strcmp(m->destination, base[i].dst) && !strcmp(m->type, base[i].type))
			return 1;
	return 0;
}

/* The mount point: a directory, or a file for a bind mount of a file. */
static int make_target(const struct spec_mount *m, struct ign_err *err)
{
	struct stat st;
	char parent[PATH_MAX];
	int r;

	if (!(m->flags & MS_BIND) || (stat(m->source, &st) == 0 && S_ISDIR(st.st_mode))) {
		if ((r = ign_mkdir_p(m->destination, 0755)) < 0)
			return ign_err_set(err, -r, "mkdir `%s`", m->destination);
		return 0;
	}
	if (stat(m->source, &st) < 0)
		return ign_err_set(err, errno, "bind source `%s`", m->source);
	snprintf(parent, sizeof(parent), "%s", m->destination);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if ((r = ign_mkdir_p(parent, 0755)) < 0)
			return ign_err_set(err, -r, "mkdir `%s`", parent);
	}
	int fd = open(m->destination, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EISDIR)
		return ign_err_set(err, errno, "create `%s`", m->destination);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* A file the host copied in (podman's /etc/hosts...): written into the tmpfs upper layer. */
static int write_file(const struct spec_mount *m, struct ign_err *err)
{
	char parent[PATH_MAX];
	int r;

	snprintf(parent, sizeof(parent), "%s", m->destination);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if ((r = ign_mkdir_p(parent, 0755)) < 0)
			return ign_err_set(err, -r, "mkdir `%s`", parent);
	}
	unlink(m->destination);  /* a symlink in the image (resolv.conf) is replaced, not followed */
	int fd = open(m->destination, O_CREAT | O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      m->file_mode);
	if (fd < 0)
		return ign_err_set(err, errno, "create `%s`", m->destination);
	r = ign_write_all(fd, m->file_data, strlen(m->file_data));
	if (r == 0 && fchmod(fd, m->file_mode) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return ign_err_set(err, -r, "write `%s`", m->destination);
	return 0;
}

int rootfs_mount_all(const struct spec *s, struct ign_err *err)
{
	for (unsigned i = 0; i < s->nmounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		int r;

		if (already_mounted(m))
			continue;
		if (m->file_data) {
			if ((r = write_file(m, err)) < 0)
				return ign_err_wrap(err, "mounts[%u]", i);
			continue;
		}
		if ((r = make_target(m, err)) < 0)
			return ign_err_wrap(err, "mounts[%u]", i);
		unsigned long flags = m->flags & ~MS_REMOUNT;
		if (mount(m->source, m->destination, m->type, flags, m->data) < 0)
			return ign_err_set(err, errno, "mounts[%u]: mount %s `%s` on `%s`%s", i,
					   m->type, m->source, m->destination,
					   errno == ENODEV ? " (this guest kernel lacks the file "
					   "system)" : "");
		/* A bind mount takes ro and friends only on a remount. */
		if ((m->flags & MS_BIND) && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) &&
		    mount(NULL, m->destination, NULL, flags | MS_REMOUNT, NULL) < 0)
			return ign_err_set(err, errno, "mounts[%u]: remount `%s` read-only", i,
					   m->destination);
		if (m->propagation && mount(NULL, m->destination, NULL, m->propagation, NULL) < 0)
			return ign_err_set(err, errno, "mounts[%u]: propagation of `%s`", i,
					   m->destination);
	}
	return 0;
}
