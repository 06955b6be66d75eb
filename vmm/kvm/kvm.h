/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin KVM helpers. Every ioctl goes through ign_ioctl() so that a failure
 * names the ioctl; device code never calls ioctl() itself.
 */
#ifndef IGN_KVM_H
#define IGN_KVM_H

#include <linux/kvm.h>

#include "ign/err.h"

int ign_ioctl_named(int fd, unsigned long req, void *arg, const char *name,
		    struct ign_err *err);
#define ign_ioctl(fd, req, arg, err) ign_ioctl_named((fd), (req), (void *)(arg), #req, (err))

/* Opens /dev/kvm, checks the API version and the capabilities the VMM needs. */
int kvm_open(struct ign_err *err);

#endif
