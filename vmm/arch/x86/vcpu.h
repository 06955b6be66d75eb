/* SPDX-License-Identifier: Apache-2.0 */
#ifndef IGN_X86_VCPU_H
#define IGN_X86_VCPU_H

#include <linux/kvm.h>
#include <stdint.h>

#include "ign/err.h"

struct x86_vcpu_boot {
	unsigned index, nvcpus;
	int hide_xsave;
	int tsc_deadline;
	uint64_t entry;                       /* BSP only: 64-bit kernel entry */
	const struct kvm_cpuid2 *supported;   /* KVM_GET_SUPPORTED_CPUID */
};

/*
 * Programs a freshly created vCPU for the direct 64-bit boot: CPUID and boot
 * MSRs on every vCPU, LAPIC LINT0/LINT1 as ExtINT/NMI, and on the BSP the
 * long-mode segments, page tables, FPU and registers. APs stay in KVM's
 * wait-for-SIPI state and are started by the guest.
 */
int x86_vcpu_boot_setup(int vcpu_fd, const struct x86_vcpu_boot *b, struct ign_err *err);
/* KVM_GET_SUPPORTED_CPUID into a malloc'd kvm_cpuid2. */
int x86_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out, struct ign_err *err);

#endif
