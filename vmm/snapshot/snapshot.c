// SPDX-License-Identifier: Apache-2.0
#include "snapshot.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
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
	if ((rc = snap_next(r, SNAP_META, &data, &len, err)) < 0)
		return rc;
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
	return 0;
}

/* ---- memory ---- */

int snapshot_map_memory(struct ign_vm *vm, struct ign_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/memory", vm->cfg.restore_from);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ign_err_set(err, errno, "snapshot memory `%s`", path);
	if ((uint64_t)st.st_size != vm->mem.size)
		return ign_err_setx(err, EINVAL, "snapshot memory `%s` is %llu bytes, the VM has "
				    "%llu: truncated, or another snapshot's", path,
				    (unsigned long long)st.st_size, (unsigned long long)vm->mem.size);
	/* private: the guest's writes never reach the file, and pages load on first touch */
	void *p = mmap(NULL, vm->mem.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
		       fd, 0);
	if (p == MAP_FAILED)
		return ign_err_set(err, errno, "map snapshot memory `%s`", path);
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
 * file-backed RAM (a restored VM) is read through.
 */
static int write_memory(struct ign_vm *vm, int fd, uint64_t *written, struct ign_err *err)
{
	const uint64_t npages = vm->mem.size / PAGE;
	cleanup_free unsigned char *resident = NULL;

	if (ftruncate(fd, vm->mem.size) < 0)
		return ign_err_set(err, errno, "size the memory file");
	if (!vm->mem_from_file && (resident = malloc(npages)) &&
	    mincore(vm->mem.hva, vm->mem.size, resident) < 0) {
		free(resident);
		resident = NULL;
	}
	*written = 0;
	for (uint64_t i = 0; i < npages;) {
		if ((resident && !(resident[i] & 1)) || page_is_zero(vm->mem.hva + i * PAGE)) {
			i++;
			continue;
		}
		uint64_t j = i + 1;  /* a run of pages to write */
		while (j < npages && j - i < 256 && !(resident && !(resident[j] & 1)) &&
		       !page_is_zero(vm->mem.hva + j * PAGE))
			j++;
		const uint8_t *src = vm->mem.hva + i * PAGE;
		size_t n = (j - i) * PAGE, done = 0;
		while (done < n) {
			ssize_t w = pwrite(fd, src + done, n - done, i * PAGE + done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return ign_err_set(err, w < 0 ? errno : EIO, "write the memory file");
			done += w;
		}
		*written += n;
		i = j;
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

/* Builds the state file's contents; vCPUs paused, devices locked. */
static int build_state(struct ign_vm *vm, struct snap_buf *b, struct ign_err *err)
{
	char meta[META_MAX];
	struct x86_vm_state vs;
	int r;

	snap_begin(b);
	snap_section(b, SNAP_META, meta, meta_text(vm, meta, sizeof(meta)));
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

static void sync_dir(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		fsync(fd);
}

int ign_vm_snapshot(struct ign_vm *vm, const char *dir, struct ign_err *err)
{
	char tmp[PATH_MAX], path[PATH_MAX + 16];
	struct snap_buf b = { 0 };
	uint64_t written = 0, t0 = 0, t1;
	struct timespec ts;
	int r;

	if ((r = ign_vm_can_snapshot(vm, err)) < 0)
		return r;
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
	if (mkdir(tmp, 0700) < 0)
		return ign_err_set(err, errno, "snapshot directory `%s`", tmp);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if ((r = vm_pause(vm, 1, err)) < 0)
		goto fail;
	lock_devices(vm);
	r = build_state(vm, &b, err);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/memory", tmp);
		cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			r = ign_err_set(err, errno, "snapshot memory `%s`", path);
		else if ((r = write_memory(vm, fd, &written, err)) == 0 && fsync(fd) < 0)
			r = ign_err_set(err, errno, "sync `%s`", path);
	}
	unlock_devices(vm);
	vm_resume(vm);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/state", tmp);
	if ((r = snap_commit(&b, path, err)) < 0)
		goto fail;
	if (rename(tmp, dir) < 0) {
		r = ign_err_set(err, errno, "snapshot `%s`", dir);
		goto fail;
	}
	sync_dir(dir);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	log_info("snapshot %s: %zu bytes of state, %llu MiB of memory written (of %llu), %.1f ms",
		 dir, b.len, (unsigned long long)(written >> 20),
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
