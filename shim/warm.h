/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's side of warm bases (runtime/base/base.h, docs/warm-bases.md):
 * building a profile's base when it is missing, and the device slots that
 * every base has and every clone fills.
 */
#ifndef IGN_SHIM_WARM_H
#define IGN_SHIM_WARM_H

#include <limits.h>

#include "base.h"
#include "ign/err.h"
#include "ign/vmm.h"

/*
 * idle=halt: plain HLT when idle. Some CPU models (QEMU's emulated AMD among
 * them) make Linux pick its AMD E400 idle routine, which triple-faulted a
 * 2-vCPU guest under nested emulation.
 */
#define IGN_GUEST_CMDLINE "console=ttyS0 reboot=k panic=-1 quiet idle=halt"

/*
 * The slots: disk 0 (read-only: the root image), virtio-rng, virtio-net,
 * shares vol0..vol7, all empty; the caller sets vsock and fills the slots.
 */
void ign_warm_slots(struct ign_vm_config *vc);
/*
 * The snapshot directory of the profile's base in `bases`, built first if
 * missing (*built set): ign-init is booted with ign.root=wait and saved at
 * its boot marker; its console goes to console_fd, its threads run under
 * seccomp mode `sc`. Concurrent creates of one profile build it once.
 */
int ign_warm_base(const char *bases, const struct ign_base_profile *p, int console_fd,
		  enum ign_seccomp_mode sc, char out[PATH_MAX], int *built, struct ign_err *err);

#endif
