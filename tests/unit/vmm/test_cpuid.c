// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>

#include "arch/x86/cpuid.h"

/* A host-like table: leaf 1 with APIC ID 5 and XSAVE/AVX, leaf 7, 0xb, 0xd. */
static unsigned host_table(struct kvm_cpuid_entry2 *e)
{
	unsigned n = 0;

	e[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = (5u << 24) | (16u << 16) | 0x0800,
					    .ecx = (1u << 26) | (1u << 28) | (1u << 0),
					    .edx = 1u << 28 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0,
					    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					    .ebx = (1u << 5) | (1u << 16) | (1u << 0), .ecx = 1u << 3 };
	for (unsigned i = 0; i < 3; i++)
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = i,
						    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						    .eax = 9, .ebx = 9, .ecx = 9, .edx = 9 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 0,
					    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					    .eax = 7, .ebx = 0x340, .ecx = 0x340 };
	return n;
}

Test(cpuid, per_vcpu_topology_and_hypervisor_bit)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = host_table(e);
	struct x86_cpuid_opts o = { .vcpu = 2, .nvcpus = 4 };

	x86_cpuid_filter(e, n, &o);
	struct kvm_cpuid_entry2 *l1 = x86_cpuid_find(e, n, 1, 0);
	cr_assert_eq(l1->ebx >> 24, 2, "APIC ID is the vCPU index");
	cr_assert_eq((l1->ebx >> 16) & 0xff, 4);
	cr_assert_eq(l1->ebx & 0xffff, 0x0800, "CLFLUSH size kept");
	cr_assert(l1->ecx & (1u << 31), "hypervisor bit");
	cr_assert(l1->edx & (1u << 28), "HTT with several CPUs");
	cr_assert_eq(x86_cpuid_find(e, n, 0xb, 0)->edx, 2);
	cr_assert_eq(x86_cpuid_find(e, n, 0xb, 1)->ebx, 4);
	cr_assert_eq(x86_cpuid_find(e, n, 0xb, 1)->eax, 2, "2 bits of core ID");
	cr_assert_eq(x86_cpuid_find(e, n, 0xb, 2)->ebx, 0, "no level above core");
	cr_assert_eq(x86_cpuid_find(e, n, 0xb, 2)->ecx, 2);
	cr_assert_eq(l1->ecx & (1u << 24), 0, "TSC deadline only when asked");
}

Test(cpuid, single_vcpu_has_no_htt)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = host_table(e);
	struct x86_cpuid_opts o = { .vcpu = 0, .nvcpus = 1, .tsc_deadline = 1 };

	x86_cpuid_filter(e, n, &o);
	struct kvm_cpuid_entry2 *l1 = x86_cpuid_find(e, n, 1, 0);
	cr_assert_eq(l1->edx & (1u << 28), 0);
	cr_assert(l1->ecx & (1u << 24), "TSC deadline");
}

Test(cpuid, xsave_hidden_on_request)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = host_table(e);
	struct x86_cpuid_opts o = { .vcpu = 0, .nvcpus = 1, .hide_xsave = 1 };

	x86_cpuid_filter(e, n, &o);
	struct kvm_cpuid_entry2 *l1 = x86_cpuid_find(e, n, 1, 0);
	cr_assert_eq(l1->ecx & ((1u << 26) | (1u << 28)), 0, "XSAVE and AVX hidden");
	cr_assert(l1->ecx & 1, "SSE3 kept");
	struct kvm_cpuid_entry2 *l7 = x86_cpuid_find(e, n, 7, 0);
	cr_assert_eq(l7->ebx, 1u << 0, "AVX2/AVX-512 hidden, FSGSBASE kept");
	cr_assert_eq(l7->ecx & (1u << 3), 0, "PKU hidden");
	struct kvm_cpuid_entry2 *ld = x86_cpuid_find(e, n, 0xd, 0);
	cr_assert_eq(ld->eax | ld->ebx | ld->ecx | ld->edx, 0);
}

Test(cpuid, xsave_kept_by_default)
{
	struct kvm_cpuid_entry2 e[16];
	unsigned n = host_table(e);
	struct x86_cpuid_opts o = { .vcpu = 0, .nvcpus = 1 };

	x86_cpuid_filter(e, n, &o);
	cr_assert(x86_cpuid_find(e, n, 1, 0)->ecx & (1u << 26));
	cr_assert_eq(x86_cpuid_find(e, n, 0xd, 0)->eax, 7);
	cr_assert_null(x86_cpuid_find(e, n, 0x40000000, 0));
}
