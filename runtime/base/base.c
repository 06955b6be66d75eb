// SPDX-License-Identifier: Apache-2.0
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/vmm.h"

/* Bump when the device slots of a base change: old bases are then not used. */
#define SLOT_LAYOUT "blk1-rng-vsock-net-9p8"

/* A base's name: the first 8 bytes of the sha256 of `what`, in hex, after the k chars in out. */
static int digest_after(char out[IGN_BASE_NAME_MAX], int k, const void *what, size_t len,
			struct ign_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!EVP_Digest(what, len, md, &mdlen, EVP_sha256(), NULL))
		return ign_err_setx(err, EIO, "base name: sha256 failed");
	for (unsigned i = 0; i < 8 && k < IGN_BASE_NAME_MAX; i++)
		k += snprintf(out + k, IGN_BASE_NAME_MAX - k, "%02x", md[i]);
	return 0;
}

int ign_base_name(const struct ign_base_profile *p, char out[IGN_BASE_NAME_MAX],
		  struct ign_err *err)
{
	char kernel[IGN_FILE_ID_MAX], initrd[IGN_FILE_ID_MAX], text[2 * PATH_MAX + 512];
	int r;

	if ((r = ign_file_id("kernel", p->kernel, kernel, sizeof(kernel), err)) < 0 ||
	    (r = ign_file_id("initrd", p->initrd, initrd, sizeof(initrd), err)) < 0)
		return r;
	int len = snprintf(text, sizeof(text), "%s\n%s\n%u\n%" PRIu64 "\nign-vmm %s\n%s\n%s\n",
			   kernel, initrd, p->vcpus, p->mem_mib, IGN_VMM_VERSION, SLOT_LAYOUT,
			   p->cmdline ? p->cmdline : "");
	int k = snprintf(out, IGN_BASE_NAME_MAX, "%ucpu-%" PRIu64 "M-", p->vcpus, p->mem_mib);
	return digest_after(out, k, text, (size_t)len, err);
}

int ign_base_app_name(const char *profile_name, const void *what, size_t len,
		      char out[IGN_BASE_NAME_MAX], struct ign_err *err)
{
	return digest_after(out, snprintf(out, IGN_BASE_NAME_MAX, "%s-app-", profile_name), what,
			    len, err);
}

int ign_base_lock(const char *bases, const char *name, struct ign_err *err)
{
	char path[PATH_MAX];
	int r;

	if ((r = ign_mkdir_p(bases, 0700)) < 0)
		return ign_err_set(err, -r, "warm bases `%s`", bases);
	snprintf(path, sizeof(path), "%s/%s.lock", bases, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ign_err_set(err, errno, "lock `%s`", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = ign_err_set(err, errno, "lock `%s`", path);
			close(fd);
			return r;
		}
	}
	return fd;
}

int ign_base_snapshot(const char *bases, const char *name, char out[PATH_MAX])
{
	char state[PATH_MAX + 8];

	snprintf(out, PATH_MAX, "%s/%s/snapshot", bases, name);
	snprintf(state, sizeof(state), "%s/state", out);
	return access(state, F_OK) == 0;
}

int ign_base_build_dir(const char *bases, const char *name, char out[PATH_MAX],
		       struct ign_err *err)
{
	char prefix[IGN_BASE_NAME_MAX + 16], path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(bases);

	/* what builds that died left: nobody else builds this name while we hold its lock */
	snprintf(prefix, sizeof(prefix), ".build-%s-", name);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			snprintf(path, sizeof(path), "%s/%s", bases, e->d_name);
			ign_rm_rf(path);
		}
	if (d)
		closedir(d);
	snprintf(out, PATH_MAX, "%s/%s%d", bases, prefix, (int)getpid());
	if (mkdir(out, 0700) < 0)
		return ign_err_set(err, errno, "warm base build directory `%s`", out);
	return 0;
}

int ign_base_commit(const char *bases, const char *name, const char *build,
		    const struct ign_base_profile *p, struct ign_err *err)
{
	char path[PATH_MAX], dst[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/profile", build);
	if (!(f = fopen(path, "we")))
		return ign_err_set(err, errno, "`%s`", path);
	fprintf(f, "kernel=%s\ninitrd=%s\nvcpus=%u\nmem_mib=%" PRIu64 "\ncreated=%lld\n", p->kernel,
		p->initrd, p->vcpus, p->mem_mib, (long long)time(NULL));
	if (fflush(f) || fsync(fileno(f)) < 0) {
		int e = errno;
		fclose(f);
		return ign_err_set(err, e, "`%s`", path);
	}
	fclose(f);
	snprintf(dst, sizeof(dst), "%s/%s", bases, name);
	if (rename(build, dst) < 0)
		return ign_err_set(err, errno, "warm base `%s`", dst);
	return 0;
}

int ign_base_drop(const char *bases, const char *name, struct ign_err *err)
{
	char path[PATH_MAX], gone[PATH_MAX + 32];
	struct stat st;
	int r;

	if (!*name || name[0] == '.' || strchr(name, '/'))
		return ign_err_setx(err, EINVAL, "`%s` is not a warm base's name", name);
	snprintf(path, sizeof(path), "%s/%s", bases, name);
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return ign_err_setx(err, ENOENT, "warm base `%s` does not exist (ign-runtime bases "
				    "lists them)", name);
	cleanup_close int lock = ign_base_lock(bases, name, err);
	if (lock < 0)
		return lock;
	/* out of the way at once (a create now builds anew), then removed */
	snprintf(gone, sizeof(gone), "%s/.drop-%s-%d", bases, name, (int)getpid());
	if (rename(path, gone) < 0)
		return ign_err_set(err, errno, "drop `%s`", path);
	if ((r = ign_rm_rf(gone)) < 0)
		return ign_err_set(err, -r, "remove `%s`", gone);
	snprintf(path, sizeof(path), "%s/%s.lock", bases, name);
	unlink(path);
	/* its application bases are diffs over it: they go too */
	struct ign_base_info *list = NULL;
	unsigned n = 0;
	size_t len = strlen(name);
	if (strstr(name, "-app-") || ign_base_list(bases, &list, &n, NULL) < 0)
		return 0;
	for (unsigned i = 0; i < n && r == 0; i++)
		if (!strncmp(list[i].name, name, len) && !strncmp(list[i].name + len, "-app-", 5))
			r = ign_base_drop(bases, list[i].name, err);
	free(list);
	return r;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = 0;
}

static void read_profile(const char *dir, struct ign_base_info *b)
{
	char path[PATH_MAX + 300], line[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/profile", dir);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "kernel=", 7))
			copy_str(b->kernel, sizeof(b->kernel), line + 7);
		else if (!strncmp(line, "initrd=", 7))
			copy_str(b->initrd, sizeof(b->initrd), line + 7);
		else if (!strncmp(line, "vcpus=", 6))
			b->vcpus = (unsigned)strtoul(line + 6, NULL, 10);
		else if (!strncmp(line, "mem_mib=", 8))
			b->mem_mib = strtoull(line + 8, NULL, 10);
		else if (!strncmp(line, "created=", 8))
			b->created = strtoll(line + 8, NULL, 10);
	}
	fclose(f);
}

static uint64_t blocks_of(const char *dir)
{
	const char *files[] = { "snapshot/memory", "snapshot/state", "profile" };
	char path[PATH_MAX + 300];
	struct stat st;
	uint64_t sum = 0;

	for (unsigned i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) == 0)
			sum += (uint64_t)st.st_blocks * 512;
	}
	return sum;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int ign_base_list(const char *bases, struct ign_base_info **out, unsigned *n,
		  struct ign_err *err)
{
	struct dirent **names = NULL;
	int count = scandir(bases, &names, NULL, by_name);

	*out = NULL;
	*n = 0;
	if (count < 0)
		return errno == ENOENT ? 0 : ign_err_set(err, errno, "warm bases `%s`", bases);
	struct ign_base_info *list = calloc(count ? count : 1, sizeof(*list));
	for (int i = 0; i < count; i++) {
		char dir[PATH_MAX + 256], snap[PATH_MAX];
		const char *name = names[i]->d_name;
		snprintf(dir, sizeof(dir), "%s/%s", bases, name);
		if (list && name[0] != '.' && strlen(name) < IGN_BASE_NAME_MAX &&
		    ign_base_snapshot(bases, name, snap)) {
			struct ign_base_info *b = &list[(*n)++];
			snprintf(b->name, sizeof(b->name), "%s", name);
			read_profile(dir, b);
			b->disk_bytes = blocks_of(dir);
		}
		free(names[i]);
	}
	free(names);
	if (!list)
		return ign_err_set(err, ENOMEM, "warm bases");
	*out = list;
	return 0;
}
