// SPDX-License-Identifier: Apache-2.0
#include "warm.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "mounts.h"

#define BUILD_TIMEOUT_S 120

void ign_warm_slots(struct ign_vm_config *vc)
{
	vc->disks[0] = (struct ign_vm_disk){ .path = NULL, .readonly = 1 };
	vc->ndisks = 1;
	vc->rng = 1;
	vc->net_slot = 1;
	for (unsigned i = 0; i < IGN_BASE_SHARE_SLOTS; i++)
		vc->shares[i] = (struct ign_vm_share){ .tag = ign_volume_tag(i) };
	vc->nshares = IGN_BASE_SHARE_SLOTS;
}

struct run {
	struct ign_vm *vm;
	int status, rc, done;
	struct ign_err err;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *run_thread(void *arg)
{
	struct run *r = arg;
	struct ign_err e = { 0 };
	int status = 0, rc;

	pthread_setname_np(pthread_self(), "base-vm");
	rc = ign_vm_run(r->vm, &status, &e);

	pthread_mutex_lock(&r->lock);
	r->rc = rc, r->status = status, r->err = e, r->done = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Boots the base VM until it has saved itself at the marker (and ended). */
static int boot_and_save(const struct ign_vm_config *vc, struct ign_err *err)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct timespec deadline;
	pthread_t t;
	int rc;

	if ((rc = ign_vm_create(vc, &r.vm, err)) < 0)
		return rc;
	if ((rc = -pthread_create(&t, NULL, run_thread, &r)) < 0) {
		ign_vm_destroy(r.vm);
		return ign_err_set(err, -rc, "base VM thread");
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += BUILD_TIMEOUT_S;
	pthread_mutex_lock(&r.lock);
	while (!r.done && pthread_cond_timedwait(&r.cond, &r.lock, &deadline) != ETIMEDOUT)
		;
	int timed_out = !r.done;
	pthread_mutex_unlock(&r.lock);
	if (timed_out)
		ign_vm_kill(r.vm);
	pthread_join(t, NULL);
	ign_vm_destroy(r.vm);
	if (timed_out)
		return ign_err_setx(err, ETIMEDOUT, "the guest did not reach its boot marker in %d s",
				    BUILD_TIMEOUT_S);
	if (r.rc < 0) {
		*err = r.err;
		return r.rc;
	}
	if (r.status)
		return ign_err_setx(err, EIO, "the guest ended with status %d before its boot marker",
				    r.status);
	return 0;
}

static int build(const char *bases, const char *name, const struct ign_base_profile *p,
		 int console_fd, enum ign_seccomp_mode sc, struct ign_err *err)
{
	char dir[PATH_MAX], snap[PATH_MAX + 16], vsock[PATH_MAX + 16];
	int r;

	if ((r = ign_base_build_dir(bases, name, dir, err)) < 0)
		return r;
	snprintf(snap, sizeof(snap), "%s/snapshot", dir);
	snprintf(vsock, sizeof(vsock), "%s/vsock", dir);
	struct ign_vm_config vc = {
		.kernel = p->kernel, .initrd = p->initrd,
		.cmdline = IGN_GUEST_CMDLINE " ign.root=wait", .vcpus = p->vcpus,
		.mem_mib = p->mem_mib, .console_in = -1, .console_out = console_fd,
		.vsock_path = vsock, .vsock_cid = 3, .snapshot_at_marker = snap,
		.exit_after_snapshot = 1, .seccomp = sc,
	};
	ign_warm_slots(&vc);
	r = boot_and_save(&vc, err);
	unlink(vsock);
	if (r == 0 && access(snap, F_OK) < 0)
		r = ign_err_setx(err, EIO, "the base VM ended without its snapshot");
	if (r == 0)
		r = ign_base_commit(bases, name, dir, p, err);
	if (r < 0) {
		ign_rm_rf(dir);
		return ign_err_wrap(err, "warm base %s", name);
	}
	return 0;
}

int ign_warm_base(const char *bases, const struct ign_base_profile *p, int console_fd,
		  enum ign_seccomp_mode sc, char out[PATH_MAX], int *built, struct ign_err *err)
{
	char name[IGN_BASE_NAME_MAX];
	int r;

	*built = 0;
	if ((r = ign_base_name(p, name, err)) < 0)
		return r;
	if (ign_base_snapshot(bases, name, out))
		return 0;
	cleanup_close int lock = ign_base_lock(bases, name, err);
	if (lock < 0)
		return lock;
	if (ign_base_snapshot(bases, name, out))
		return 0;  /* another create built it while we waited */
	if ((r = build(bases, name, p, console_fd, sc, err)) < 0)
		return r;
	*built = 1;
	return ign_base_snapshot(bases, name, out) ? 0 :
	       ign_err_setx(err, EIO, "warm base %s vanished after it was built", name);
}
