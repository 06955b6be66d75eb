/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM library: one KVM virtual machine per struct ign_vm. It knows
 * nothing of OCI; ign-vmm (vmm/main.c) and later the shim drive it.
 */
#ifndef IGN_VMM_H
#define IGN_VMM_H

#include <stdint.h>

#include "ign/err.h"

#define IGN_VMM_VERSION "0.1.0"
#define IGN_VM_MAX_VCPUS 64
#define IGN_VM_MIN_MEM_MIB 16
#define IGN_VM_MAX_MEM_MIB (1024 * 1024)

enum ign_xsave_mode {
	IGN_XSAVE_AUTO,  /* hide XSAVE only when the host CPU is QEMU's emulator */
	IGN_XSAVE_HOST,  /* pass the host's XSAVE features through */
	IGN_XSAVE_HIDE,  /* hide XSAVE/AVX/PKU: the guest uses FXSAVE */
};

/* What a thread may call (vmm/seccomp.c, docs/security.md). */
enum ign_seccomp_mode {
	IGN_SECCOMP_ENFORCE,  /* a call outside the thread's allowlist ends the process */
	IGN_SECCOMP_LOG,      /* such calls run, and the kernel logs them (finding missing ones) */
	IGN_SECCOMP_OFF,
};

enum ign_thread_kind {
	IGN_THREAD_VCPU, IGN_THREAD_IO, IGN_THREAD_CONSOLE,
	IGN_THREAD_CONTROL,   /* the thread that runs ign_vm_run: snapshots, reset, teardown */
	IGN_THREAD_SHIM,      /* ign-shim's main thread */
	IGN_THREAD_KINDS,
};

#define IGN_VM_MAX_DISKS 8

struct ign_vm_disk {
	/* file or block device; the guest sees /dev/vda, vdb... NULL: an empty slot (below) */
	const char *path;
	int readonly;
};

#define IGN_VM_MAX_SHARES 8

struct ign_vm_share {
	const char *tag;      /* the guest mounts it by this name (virtio-9p) */
	const char *path;     /* the host directory; NULL: an empty slot (below) */
	int readonly;
};

struct ign_vm_config {
	const char *kernel;   /* ELF vmlinux or bzImage */
	const char *initrd;   /* NULL: none */
	const char *cmdline;
	unsigned vcpus;
	uint64_t mem_mib;
	enum ign_xsave_mode xsave;
	int console_in;       /* feeds the 16550's receiver; -1: none */
	int console_out;      /* the 16550's transmitter */
	int boot_timer;       /* log the boot marker's time and the VMM's memory */
	int no_acpi;          /* MP table only, no ACPI tables (guest cannot power off) */
	struct ign_vm_disk disks[IGN_VM_MAX_DISKS];
	unsigned ndisks;
	int rng;              /* virtio-rng: the guest's /dev/hwrng */
	const char *vsock_path;  /* virtio-vsock's host socket (docs/vmm.md); NULL: none */
	uint64_t vsock_cid;      /* the guest's CID, 3 or more */
	const char *net_tap;     /* virtio-net on this tap device; NULL: none */
	int net_slot;            /* virtio-net even without a tap: an empty slot */
	uint8_t net_mac[6];      /* the guest's MAC address */
	struct ign_vm_share shares[IGN_VM_MAX_SHARES];  /* host directories (docs/volumes.md) */
	unsigned nshares;
	/*
	 * Snapshots (docs/snapshot-format.md). snapshot_at_marker: when the guest
	 * writes the boot marker, save a snapshot into this directory (it must
	 * not exist) and go on. restore_from: start from the snapshot in this
	 * directory instead of booting (kernel, initrd and cmdline unused); the
	 * vCPUs, memory and devices must be those of the VM that made it.
	 * exit_after_snapshot: the VM ends (status 0) once the snapshot is made.
	 *
	 * Slots: a warm base is made with empty slots (a disk or share with no
	 * path, net_slot without a tap) and each VM restored from it fills
	 * them with its own disk, directories and tap: a disk slot that was
	 * empty when saved takes any disk of the same mode, and the guest
	 * gets a configuration change interrupt for its new capacity.
	 */
	const char *snapshot_at_marker;
	int exit_after_snapshot;
	/*
	 * snapshot_diff: the snapshot of a VM restored from one keeps only the
	 * pages it changed since, over that snapshot, its parent, which must
	 * then stay as it is (docs/snapshot-format.md, "Diff snapshots").
	 */
	int snapshot_diff;
	/* reset_at_marker: at the first boot marker, ign_vm_reset() instead (tests). */
	int reset_at_marker;
	const char *restore_from;
	/* each VM thread loads its kind's allowlist as it starts; ign_vm_run's caller too */
	enum ign_seccomp_mode seccomp;
};

struct ign_vm;

int ign_vm_create(const struct ign_vm_config *cfg, struct ign_vm **out, struct ign_err *err);
/*
 * After ign_vm_create, before ign_vm_run, on the thread that runs it: sets
 * no_new_privs and drops every capability but those cfg's 9p shares need
 * (vmm/privs.c, docs/security.md). Capabilities are per thread: the VM's
 * threads, started by ign_vm_run, inherit what is left.
 */
int ign_vm_drop_privileges(const struct ign_vm_config *cfg, struct ign_err *err);
/*
 * After ign_vm_create, before ign_vm_drop_privileges (it needs CAP_SYS_ADMIN),
 * with no other thread yet: moves the process into its own mount namespace
 * whose root is an empty read-only tmpfs mounted on dir (made if missing),
 * with /proc and only the directories in keep (absolute; NULL entries
 * skipped) bound at their own paths (vmm/jail.c, docs/security.md).
 */
int ign_vm_jail(const char *dir, const char *const *keep, unsigned nkeep, struct ign_err *err);
/*
 * Loads the calling thread's seccomp allowlist for its kind; nothing with
 * IGN_SECCOMP_OFF. A thread started afterwards inherits it on top of its own.
 */
int ign_seccomp_apply(enum ign_seccomp_mode mode, enum ign_thread_kind kind, struct ign_err *err);
/* The mode IGN_SECCOMP names: enforce (also when unset), log or off. */
int ign_seccomp_mode_from_env(enum ign_seccomp_mode *out, struct ign_err *err);
const char *ign_thread_kind_name(enum ign_thread_kind kind);
/* Where a refused call is reported (default stderr), before the process ends. */
void ign_seccomp_report_fd(int fd);
/*
 * Runs the guest until it ends. *status: the byte the guest wrote to the exit
 * port, or 0 when it reset (reboot) or powered off. Returns <0 on a VMM failure
 * (KVM error, triple fault, an exit the VMM cannot handle).
 */
int ign_vm_run(struct ign_vm *vm, int *status, struct ign_err *err);
void ign_vm_destroy(struct ign_vm *vm);
/* Ends a running VM from another thread: ign_vm_run returns -ECANCELED. */
void ign_vm_kill(struct ign_vm *vm);
/*
 * Whether every device of the VM can be snapshotted; if not, err names the
 * first that cannot (the snapshot format lands device by device: issue 5).
 */
int ign_vm_can_snapshot(const struct ign_vm *vm, struct ign_err *err);
/*
 * Pauses the running VM, saves it into directory `dir` (which must not
 * exist; written whole under a temporary name, then renamed) and resumes it.
 * Call from a thread that is not a vCPU's. On failure nothing is left at dir
 * and the VM may stay paused: the caller ends it (vm_stop_failed) before
 * vm_resume, so the guest never runs on past a snapshot that failed.
 */
int ign_vm_snapshot(struct ign_vm *vm, const char *dir, struct ign_err *err);
/*
 * Rolls a VM restored from a snapshot back to that snapshot, in place: its
 * changed pages are dropped (madvise), and vCPUs, irqchip, clock and devices
 * are set from the state file (as read at the restore) again. What the host
 * side holds that the snapshot's guest never had ends: vsock connections
 * close (their host peers read EOF) and every 9p fid is clunked. Slots
 * filled at the restore stay filled, and the guest is told again (a disk's
 * capacity change). Call from a thread that is not a vCPU's.
 */
int ign_vm_reset(struct ign_vm *vm, struct ign_err *err);

#endif
