// SPDX-License-Identifier: Apache-2.0
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ign/cleanup.h"

int ign_ioctl_named(int fd, unsigned long req, void *arg, const char *name,
		    struct ign_err *err)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ign_err_set(err, errno, "%s", name);
	return r;
}

static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
};

int kvm_open(struct ign_err *err)
{
	cleanup_close int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return ign_err_setx(err, e, "/dev/kvm does not exist: this machine has no "
					    "KVM (enable virtualization in the firmware or the host, "
					    "load kvm_intel or kvm_amd, or run the tests, which use "
					    "nested KVM under QEMU)");
		if (e == EACCES || e == EPERM)
			return ign_err_set(err, e, "open /dev/kvm (add yourself to the `kvm` group "
					   "or run as root)");
		return ign_err_set(err, e, "open /dev/kvm");
	}
	int ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return ign_err_setx(err, ENOTSUP, "KVM API version %d, need %d", ver,
				    KVM_API_VERSION);
	for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++)
		if (ioctl(fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0)
			return ign_err_setx(err, ENOTSUP, "KVM lacks %s",
					    kvm_required_caps[i].name);
	return steal_fd(&fd);
}
