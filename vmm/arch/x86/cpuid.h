/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPUID the guest sees: KVM's supported set, adjusted per vCPU.
 * Pure functions over kvm_cpuid_entry2 arrays so they test without KVM.
 */
#ifndef IGN_X86_CPUID_H
#define IGN_X86_CPUID_H

#include <linux/kvm.h>

struct x86_cpuid_opts {
	unsigned vcpu;      /* this vCPU's index = its APIC ID */
	unsigned nvcpus;
	int hide_xsave;     /* XSAVE, AVX*, PKU, leaf 0xd hidden */
	int tsc_deadline;   /* KVM emulates the LAPIC TSC-deadline timer: say so */
};

void x86_cpuid_filter(struct kvm_cpuid_entry2 *e, unsigned n, const struct x86_cpuid_opts *o);
struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned n,
					unsigned function, unsigned index);
/* 1 when the CPU we run on is QEMU's TCG emulator (hypervisor leaf "TCGTCGTCGTCG"). */
int x86_host_is_emulated(void);

#endif
