/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Saving a running VM and starting one from what was saved
 * (docs/snapshot-format.md). A snapshot is a directory:
 *   memory   guest RAM, raw and sparse (pages of zeros are holes)
 *   state    the state file (snapfile.h): META, VM, VCPU x n, SERIAL,
 *            VIRTIO x n, in that order
 * It is written whole under DIR.tmp-PID and renamed to DIR, which must not
 * exist: snapshots are never changed once made. A restore maps `memory`
 * MAP_PRIVATE: pages fault in lazily, writes go to private copies, and the
 * file is never written, so any number of VMs share one snapshot's pages.
 */
#ifndef IGN_SNAPSHOT_H
#define IGN_SNAPSHOT_H

#include "ign/err.h"
#include "snapfile.h"

struct ign_vm;

/*
 * Restore, step 1: check the state file against this VM's config and host.
 * The file's bytes stay with the VM (vm->restored, freed by ign_vm_destroy),
 * for ign_vm_reset: r reads them, and is not closed.
 */
int snapshot_open(struct ign_vm *vm, struct snap_reader *r, struct ign_err *err);
/* Step 2: guest RAM from the memory file (instead of anonymous memory). */
int snapshot_map_memory(struct ign_vm *vm, struct ign_err *err);
/* Step 3, with devices and vCPUs created: the VM's, vCPUs' and devices' state. */
int snapshot_restore(struct ign_vm *vm, struct snap_reader *r, struct ign_err *err);

#endif
