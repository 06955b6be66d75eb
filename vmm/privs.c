// SPDX-License-Identifier: Apache-2.0
/*
 * Least privilege for a VM whose devices are open (docs/security.md): once
 * /dev/kvm, the tap, the disks, the memory files and the sockets are open, the
 * VMM needs no capability at all, except that a 9p share is served as root:
 * it gives files to the guest's uid/gid and reaches files other users own
 * (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
 * as virtiofsd keeps). Everything else leaves the effective, permitted,
 * inheritable, ambient and bounding sets, and no_new_privs is set, so nothing
 * the VMM could be made to exec gains any back.
 * Capabilities are per thread: call before the VM's threads start.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "ign/vmm.h"

static const cap_value_t share_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
};
#define NSHARE_CAPS (sizeof(share_caps) / sizeof(share_caps[0]))

static void cap_cleanup(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

int ign_vm_drop_privileges(const struct ign_vm_config *cfg, struct ign_err *err)
{
	__attribute__((cleanup(cap_cleanup))) cap_t now = cap_get_proc();
	__attribute__((cleanup(cap_cleanup))) cap_t want = cap_init();
	int shares = 0;

	if (!now || !want)
		return ign_err_set(err, errno ? errno : ENOMEM, "read capabilities");
	for (unsigned i = 0; i < cfg->nshares && i < IGN_VM_MAX_SHARES; i++)
		shares |= cfg->shares[i].path != NULL;  /* an empty slot serves nothing */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ign_err_set(err, errno, "set no_new_privs");
	/* keep what the shares need, of what we have (raising one would fail) */
	for (unsigned i = 0; shares && i < NSHARE_CAPS; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(now, share_caps[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET) {
			cap_set_flag(want, CAP_PERMITTED, 1, &share_caps[i], CAP_SET);
			cap_set_flag(want, CAP_EFFECTIVE, 1, &share_caps[i], CAP_SET);
		}
	}
	/* the bounding set keeps what `want` keeps; first, as dropping needs CAP_SETPCAP */
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_get_flag(now, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	for (cap_value_t c = 0; setpcap == CAP_SET && c < (cap_value_t)cap_max_bits(); c++) {
		cap_flag_value_t keep = CAP_CLEAR;
		cap_get_flag(want, c, CAP_PERMITTED, &keep);
		if (keep == CAP_CLEAR && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
			return ign_err_set(err, errno, "drop capability %d from the bounding set", c);
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return ign_err_set(err, errno, "clear the ambient capabilities");
	if (cap_set_proc(want) < 0)
		return ign_err_set(err, errno, "drop capabilities");
	return 0;
}
