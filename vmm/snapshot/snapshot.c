// SPDX-License-Identifier: Apache-2.0
#include "snapshot.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/state.h"
#include "ign/cleanup.h"
#include "ign/log.h"
#include "layers.h"
#include "vm_priv.h"

#define PAGE 4096ul
#define META_MAX 2048

/* ---- META: what the snapshot needs of the VM that restores it ---- */

static void cpu_signature(char *out, size_t n)
{
	unsigned a = 0, b = 0, c = 0, d = 0, eax1 = 0, x;
	char vendor[13] = { 0 };

	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	__get_cpuid(1, &eax1, &x, &x, &x);
	snprintf(out, n, "%s/%08x", vendor, eax1);
}

static void devices_list(const struct ign_vm *vm, char *out, size_t n)
{
	size_t k = 0;

	out[0] = 0;
	for (unsigned i = 0; i < vm->nvirtio && k < n; i++)
		k += snprintf(out + k, n - k, "%s%s", i ? "," : "", vm->virtio[i].dev->ops->name);
}

static int meta_text(const struct ign_vm *vm, char *out, size_t n)
{
	char cpu[64], devs[512];

	cpu_signature(cpu, sizeof(cpu));
	devices_list(vm, devs, sizeof(devs));
	return snprintf(out, n,
			"vmm=ign-vmm %s\nvcpu_state=%zu\nvcpus=%u\nmem_bytes=%llu\ncpu=%s\n"
			"devices=%s\n", IGN_VMM_VERSION, sizeof(struct x86_vcpu_state),
			vm->cfg.vcpus, (unsigned long long)vm->mem.size, cpu, devs);
}

int snapshot_open(struct ign_vm *vm, struct snap_reader *r, struct ign_err *err)
{
	char path[PATH_MAX], want[META_MAX];
	const uint8_t *data;
	size_t len;
	int rc;

	if (snprintf(path, sizeof(path), "%s/state", vm->cfg.restore_from) >= (int)sizeof(path))
		return ign_err_setx(err, ENAMETOOLONG, "snapshot `%s`", vm->cfg.restore_from);
	if ((rc = snap_open(path, r, err)) < 0)
		return rc;
	vm->restored = *r;  /* its bytes are the VM's now, read again by a reset */
	vm->restored.path = NULL;  /* ours, on the stack */
	if ((rc = snap_next(r, SNAP_META, &data, &len, err)) < 0)
		return rc;
	vm->restored_crc = r->crc;
	/*
	 * The devices are not made yet: compare all but them now; they are
	 * compared again, by type, as each is restored.
	 */
	guest_mem_layout(&vm->mem, vm->cfg.mem_mib << 20);
	meta_text(vm, want, sizeof(want));
	char *cut = strstr(want, "devices=");
	size_t head = cut - want;
	if (len < head || memcmp(data, want, head)) {
		/* name the first line that differs */
		char got[META_MAX];
		size_t n = len < sizeof(got) - 1 ? len : sizeof(got) - 1, k = 0;
		memcpy(got, data, n);
		got[n] = 0;
		while (got[k] && got[k] == want[k])
			k++;
		while (k && got[k - 1] != '\n')
			k--;
		return ign_err_setx(err, EINVAL, "snapshot `%s` was made with %.*s, this VM has "
				    "%.*s: make the snapshot again for this VM", vm->cfg.restore_from,
				    (int)strcspn(got + k, "\n"), got + k,
				    (int)strcspn(want + k, "\n"), want + k);
	}
	const uint8_t *pages;
	if (snap_peek(r) == SNAP_PAGES && (rc = snap_next(r, SNAP_PAGES, &pages, &len, err)) < 0)
		return rc;  /* a diff's pages: snapshot_map_memory maps them */
	return 0;
}

/* ---- memory ---- */

int snapshot_map_memory(struct ign_vm *vm, struct ign_err *err)
{
	void *p;
	int r;

	/* private: the guest's writes never reach a file, and pages load on first touch */
	if ((r = layers_map(vm->cfg.restore_from, vm->mem.size, &p, err)) < 0)
		return r;
	vm->mem.hva = p;
	vm->mem_from_file = 1;
	return 0;
}

static int page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned i = 0; i < PAGE / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/*
 * Writes guest RAM sparsely: pages of zeros stay holes. Anonymous pages
 * the guest never touched are skipped without reading them (mincore); a
 * file-backed RAM (a restored VM) is read through. A diff writes only its
 * ranges (each page at its own offset).
 */
static int write_memory(struct ign_vm *vm, int fd, const struct page_range *ranges,
			unsigned nranges, uint64_t *written, struct ign_err *err)
{
	const uint64_t npages = vm->mem.size / PAGE;
	const struct page_range all = { 0, npages };
	cleanup_free unsigned char *resident = NULL;

	if (ftruncate(fd, vm->mem.size) < 0)
		return ign_err_set(err, errno, "size the memory file");
	if (!ranges) {
		ranges = &all;
		nranges = 1;
		if (!vm->mem_from_file && (resident = malloc(npages)) &&
		    mincore(vm->mem.hva, vm->mem.size, resident) < 0) {
			free(resident);
			resident = NULL;
		}
	}
	*written = 0;
	for (unsigned k = 0; k < nranges; k++) {
		const uint64_t end = ranges[k].first + ranges[k].count;
		for (uint64_t i = ranges[k].first; i < end;) {
			if ((resident && !(resident[i] & 1)) || page_is_zero(vm->mem.hva + i * PAGE)) {
				i++;
				continue;
			}
			uint64_t j = i + 1;  /* a run of pages to write */
			while (j < end && j - i < 256 && !(resident && !(resident[j] & 1)) &&
			       !page_is_zero(vm->mem.hva + j * PAGE))
				j++;
			const uint8_t *src = vm->mem.hva + i * PAGE;
			size_t n = (j - i) * PAGE, done = 0;
			while (done < n) {
				ssize_t w = pwrite(fd, src + done, n - done, i * PAGE + done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return ign_err_set(err, w < 0 ? errno : EIO,
							   "write the memory file");
				done += w;
			}
			*written += n;
			i = j;
		}
	}
	return 0;
}

/* ---- save ---- */

static void lock_devices(struct ign_vm *vm)
{
	for (unsigned i = 0; i < vm->nvirtio; i++)
		pthread_mutex_lock(&vm->virtio[i].dev->lock);
	pthread_mutex_lock(&vm->pio.lock);
}

static void unlock_devices(struct ign_vm *vm)
{
	pthread_mutex_unlock(&vm->pio.lock);
	for (unsigned i = vm->nvirtio; i-- > 0;)
		pthread_mutex_unlock(&vm->virtio[i].dev->lock);
}

/*
 * Builds the state file's contents; vCPUs paused, devices locked. A diff
 * (parent set) names its parent and the parent state's CRC in META and lists
 * its page ranges right after it.
 */
static int build_state(struct ign_vm *vm, const char *parent, const struct page_range *ranges,
		       unsigned nranges, struct snap_buf *b, struct ign_err *err)
{
	char meta[META_MAX + PATH_MAX + 32];
	struct x86_vm_state vs;
	int r, n = meta_text(vm, meta, META_MAX);

	if (parent)
		n += snprintf(meta + n, sizeof(meta) - n, "parent=%s\nparent_crc=%08x\n", parent,
			      vm->restored_crc);
	snap_begin(b);
	snap_section(b, SNAP_META, meta, n);
	if (parent)
		snap_section(b, SNAP_PAGES, ranges, nranges * sizeof(*ranges));
	if ((r = x86_vm_save(vm->vm_fd, &vs, err)) < 0)
		return r;
	snap_section(b, SNAP_VM, &vs, sizeof(vs));
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		if (c->save_rc < 0) {
			*err = c->save_err;
			return ign_err_wrap(err, "vCPU %u", i);
		}
		c->saved->index = i;
		snap_section(b, SNAP_VCPU, c->saved, sizeof(*c->saved));
	}
	struct snap_buf sb = { 0 };
	serial_save(&vm->serial, &sb);
	snap_section(b, SNAP_SERIAL, sb.p, sb.len);
	for (unsigned i = 0; i < vm->nvirtio && !sb.oom; i++) {
		sb.len = 0;
		if ((r = virtio_dev_save(vm->virtio[i].dev, &sb, err)) < 0) {
			snap_buf_free(&sb);
			return r;
		}
		snap_section(b, SNAP_VIRTIO, sb.p, sb.len);
	}
	r = sb.oom ? ign_err_set(err, ENOMEM, "device state") : 0;
	snap_buf_free(&sb);
	return r;
}

static void remove_tree(const char *dir)
{
	char p[PATH_MAX];

	for (const char *const *n = (const char *const[]){ "memory", "state", "state.tmp", NULL };
	     *n; n++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *n);
		unlink(p);
	}
	rmdir(dir);
}

/*
 * The temporary directories (DIR.tmp-PID) of snapshots of dir whose writer
 * died before its rename (killed mid-write): a pid with no /proc entry left
 * them, and nobody finishes them now.
 */
static void remove_dead_tmps(const char *dir)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], prefix[PATH_MAX], p[PATH_MAX * 2];

	if (access("/proc/self", F_OK) < 0)
		return;  /* no /proc: no telling the dead from the living */
	snprintf(dcopy, sizeof(dcopy), "%s", dir);
	snprintf(bcopy, sizeof(bcopy), "%s", dir);
	const char *parent = dirname(dcopy);
	if ((size_t)snprintf(prefix, sizeof(prefix), "%.4000s.tmp-", basename(bcopy)) >= sizeof(prefix))
		return;
	DIR *d = opendir(parent);
	for (struct dirent *e; d && (e = readdir(d));) {
		char *end;
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		long pid = strtol(e->d_name + strlen(prefix), &end, 10);
		snprintf(p, sizeof(p), "/proc/%ld", pid);
		if (*end || pid <= 0 || pid == getpid() || access(p, F_OK) == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		remove_tree(p);
	}
	if (d)
		closedir(d);
}

static void sync_dir(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		fsync(fd);
}

int ign_vm_snapshot(struct ign_vm *vm, const char *dir, struct ign_err *err)
{
	char tmp[PATH_MAX], path[PATH_MAX + 16], parent[PATH_MAX];
	struct snap_buf b = { 0 };
	uint64_t written = 0, t0 = 0, t1;
	struct timespec ts;
	cleanup_free struct page_range *ranges = NULL;
	unsigned nranges = 0;
	int diff = vm->cfg.snapshot_diff, r;

	if ((r = ign_vm_can_snapshot(vm, err)) < 0)
		return r;
	if (diff && (!vm->mem_from_file || !realpath(vm->cfg.restore_from, parent)))
		return ign_err_setx(err, EINVAL, "a diff snapshot is made of a VM restored from a "
				    "snapshot (its parent)%s", vm->mem_from_file ? ", which is gone" : "");
	if (access(dir, F_OK) == 0)
		return ign_err_setx(err, EEXIST, "snapshot `%s` already exists: snapshots are never "
				    "overwritten; remove it or choose another directory", dir);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", dir, (int)getpid()) >= (int)sizeof(tmp))
		return ign_err_setx(err, ENAMETOOLONG, "snapshot `%s`", dir);
	if (!vm->msrs && (r = x86_msr_index_list(vm->kvm_fd, &vm->msrs, &vm->nmsrs, err)) < 0)
		return r;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!vm->vcpu[i].saved && !(vm->vcpu[i].saved = calloc(1, sizeof(struct x86_vcpu_state))))
			return ign_err_set(err, ENOMEM, "vCPU state");
	remove_tree(tmp);  /* a leftover of a snapshot this pid never finished */
	remove_dead_tmps(dir);
	if (mkdir(tmp, 0700) < 0)
		return ign_err_set(err, errno, "snapshot directory `%s`", tmp);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if ((r = vm_pause(vm, 1, err)) < 0)
		goto fail;
	lock_devices(vm);
	if (diff)  /* what the guest and the devices wrote since the restore */
		r = layers_changed(vm->mem.hva, vm->mem.size, &ranges, &nranges, err);
	if (r == 0)
		r = build_state(vm, diff ? parent : NULL, ranges, nranges, &b, err);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/memory", tmp);
		cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			r = ign_err_set(err, errno, "snapshot memory `%s`", path);
		else if ((r = write_memory(vm, fd, diff ? ranges : NULL, nranges, &written,
					   err)) == 0 && fsync(fd) < 0)
			r = ign_err_set(err, errno, "sync `%s`", path);
	}
	unlock_devices(vm);
	if (r < 0)
		goto fail;
	/*
	 * Still paused: a failure from here on must reach the caller before the
	 * guest runs again, or a guest that goes on to exit 0 would hide it.
	 */
	snprintf(path, sizeof(path), "%s/state", tmp);
	if ((r = snap_commit(&b, path, err)) < 0)
		goto fail;
	if (rename(tmp, dir) < 0) {
		r = ign_err_set(err, errno, "snapshot `%s`", dir);
		goto fail;
	}
	vm_resume(vm);
	sync_dir(dir);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	log_info("%s snapshot %s: %zu bytes of state, %llu MiB of memory written (of %llu), "
		 "%.1f ms", diff ? "diff" : "full", dir, b.len, (unsigned long long)(written >> 20),
		 (unsigned long long)(vm->mem.size >> 20), (t1 - t0) / 1e6);
	snap_buf_free(&b);
	return 0;
fail:
	snap_buf_free(&b);
	remove_tree(tmp);
	return ign_err_wrap(err, "snapshot `%s`", dir);
}

/* ---- restore ---- */

int snapshot_restore(struct ign_vm *vm, struct snap_reader *r, struct ign_err *err)
{
	const uint8_t *data;
	size_t len;
	int rc;

	if ((rc = snap_next(r, SNAP_VM, &data, &len, err)) < 0)
		return rc;
	if (len != sizeof(struct x86_vm_state))
		return ign_err_setx(err, EINVAL, "snapshot: VM state of %zu bytes", len);
	struct x86_vm_state vs;
	memcpy(&vs, data, sizeof(vs));
	if ((rc = x86_vm_restore(vm->vm_fd, &vs, err)) < 0)
		return ign_err_wrap(err, "snapshot: VM state");
	cleanup_free struct x86_vcpu_state *s = malloc(sizeof(*s));
	if (!s)
		return ign_err_set(err, ENOMEM, "vCPU state");
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if ((rc = snap_next(r, SNAP_VCPU, &data, &len, err)) < 0)
			return rc;
		if (len != sizeof(*s))
			return ign_err_setx(err, EINVAL, "snapshot: vCPU state of %zu bytes", len);
		memcpy(s, data, sizeof(*s));
		if (s->index != i)
			return ign_err_setx(err, EINVAL, "snapshot: vCPU %u where %u is expected",
					    s->index, i);
		if ((rc = x86_vcpu_restore(vm->kvm_fd, vm->vcpu[i].fd, s, err)) < 0)
			return ign_err_wrap(err, "snapshot: vCPU %u", i);
	}
	if ((rc = snap_next(r, SNAP_SERIAL, &data, &len, err)) < 0 ||
	    (rc = serial_restore(&vm->serial, data, len, err)) < 0)
		return rc;
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		if ((rc = snap_next(r, SNAP_VIRTIO, &data, &len, err)) < 0 ||
		    (rc = virtio_dev_restore(vm->virtio[i].dev, data, len, err)) < 0)
			return ign_err_wrap(err, "snapshot: device %u", i);
	}
	if (r->left)
		return ign_err_setx(err, EINVAL, "snapshot: %u sections more than this VM has "
				    "devices for", r->left);
	return 0;
}

/* ---- reset: back to the snapshot this VM was restored from, in place ---- */

int ign_vm_reset(struct ign_vm *vm, struct ign_err *err)
{
	struct snap_reader rd = vm->restored;  /* the state file's bytes, read at the restore */
	struct snap_buf probe = { 0 };
	char path[PATH_MAX + 16];
	const uint8_t *data;
	size_t len;
	int r;

	if (!vm->mem_from_file)
		return ign_err_setx(err, EINVAL, "reset: the VM was not restored from a snapshot");
	snprintf(path, sizeof(path), "%s/state", vm->cfg.restore_from);
	rd.path = path;
	if ((r = vm_pause(vm, 0, err)) < 0)
		return r;
	lock_devices(vm);
	/*
	 * The snapshot's guest had no vsock connection and no share mounted:
	 * ours end (their host peers see EOF), and then every device must be as
	 * a snapshot can hold it.
	 */
	for (unsigned i = 0; i < vm->nvirtio && r == 0; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;
		if (d->ops->disconnect)
			d->ops->disconnect(d);
		probe.len = 0;
		r = virtio_dev_save(d, &probe, err);
	}
	snap_buf_free(&probe);
	if (r == 0 && (r = snap_next(&rd, SNAP_META, &data, &len, err)) == 0 &&
	    snap_peek(&rd) == SNAP_PAGES)
		r = snap_next(&rd, SNAP_PAGES, &data, &len, err);
	/* the private copies go: every page reads from the snapshot's files again */
	if (r == 0 && madvise(vm->mem.hva, vm->mem.size, MADV_DONTNEED) < 0)
		r = ign_err_set(err, errno, "drop the VM's changed pages");
	if (r == 0 && (r = snapshot_restore(vm, &rd, err)) < 0)
		vm_stop_failed(vm, err);  /* half reset: the VM cannot go on */
	unlock_devices(vm);
	vm_resume(vm);
	return r < 0 ? ign_err_wrap(err, "reset to `%s`", vm->cfg.restore_from) : 0;
}
