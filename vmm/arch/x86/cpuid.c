// SPDX-License-Identifier: Apache-2.0
/*
 * CPUID adjustments, after Firecracker's normalisation:
 *  - leaf 1: TSC-deadline timer when KVM has it, hypervisor bit (without it Linux cannot find kvm-clock and fails
 *    to calibrate the TSC under nested KVM), APIC ID, logical CPU count, HTT;
 *  - leaf 0xb: a flat topology, one thread per core, nvcpus cores, x2APIC ID;
 *  - leaf 4 / 0x80000008: core counts that agree with 0xb;
 *  - optionally XSAVE hidden. QEMU 7.2's TCG loses guest XCR0 across nested
 *    VMRUN, so an L2 guest that uses XSAVE corrupts its FPU state.
 */
#include "cpuid.h"

#include <cpuid.h>
#include <string.h>

#define LEAF1_ECX_FMA      (1u << 12)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_XSAVE    (1u << 26)
#define LEAF1_ECX_OSXSAVE  (1u << 27)
#define LEAF1_ECX_AVX      (1u << 28)
#define LEAF1_ECX_F16C     (1u << 29)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_HTT      (1u << 28)
#define LEAF7_EBX_AVX2     (1u << 5)
#define LEAF7_EBX_AVX512_MASK 0xdc230000u  /* F DQ IFMA PF ER CD BW VL */
#define LEAF7_ECX_PKU      (1u << 3)
#define LEAF7_ECX_OSPKE    (1u << 4)

struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned n,
					unsigned function, unsigned index)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == function &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == index))
			return &e[i];
	return NULL;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void cpuid_topology(struct kvm_cpuid_entry2 *x, const struct x86_cpuid_opts *o)
{
	switch (x->function) {
	case 1:
		x->ebx = (x->ebx & 0x0000ffffu) | (o->vcpu << 24) | ((o->nvcpus & 0xff) << 16);
		if (o->nvcpus > 1)
			x->edx |= LEAF1_EDX_HTT;
		else
			x->edx &= ~LEAF1_EDX_HTT;
		break;
	case 4:
		/* cores per package - 1 in EAX[31:26]; one thread shares each cache level */
		if (x->eax & 0x1f)
			x->eax = (x->eax & 0x3ff) | ((o->nvcpus - 1) << 26);
		break;
	case 0xb:
		x->edx = o->vcpu;
		if (x->index == 0) {        /* SMT level: one thread per core */
			x->eax = 0;
			x->ebx = 1;
			x->ecx = (1u << 8) | 0;
		} else if (x->index == 1) { /* core level */
			x->eax = bits_for(o->nvcpus);
			x->ebx = o->nvcpus;
			x->ecx = (2u << 8) | 1;
		} else {
			x->eax = x->ebx = 0;
			x->ecx = x->index;
		}
		break;
	case 0x80000008:
		x->ecx = (x->ecx & ~0xf0ffu) | (bits_for(o->nvcpus) << 12) | (o->nvcpus - 1);
		break;
	}
}

static void cpuid_hide_xsave(struct kvm_cpuid_entry2 *x)
{
	switch (x->function) {
	case 1:
		x->ecx &= ~(LEAF1_ECX_XSAVE | LEAF1_ECX_OSXSAVE | LEAF1_ECX_AVX |
			    LEAF1_ECX_FMA | LEAF1_ECX_F16C);
		break;
	case 7:
		if (x->index == 0) {
			x->ebx &= ~(LEAF7_EBX_AVX2 | LEAF7_EBX_AVX512_MASK);
			x->ecx &= ~(LEAF7_ECX_PKU | LEAF7_ECX_OSPKE);
		}
		break;
	case 0xd:
		x->eax = x->ebx = x->ecx = x->edx = 0;
		break;
	}
}

void x86_cpuid_filter(struct kvm_cpuid_entry2 *e, unsigned n, const struct x86_cpuid_opts *o)
{
	for (unsigned i = 0; i < n; i++) {
		if (e[i].function == 1) {
			e[i].ecx |= LEAF1_ECX_HYPERVISOR;
			/* KVM_GET_SUPPORTED_CPUID leaves this to userspace. Without it a
			 * hardware-reduced guest, which has no PIT, cannot calibrate the
			 * LAPIC timer. */
			if (o->tsc_deadline)
				e[i].ecx |= LEAF1_ECX_TSC_DEADLINE;
		}
		cpuid_topology(&e[i], o);
		if (o->hide_xsave)
			cpuid_hide_xsave(&e[i]);
	}
}

int x86_host_is_emulated(void)
{
	unsigned a, b, c, d;
	char sig[13];

	__cpuid(1, a, b, c, d);
	if (!(c & LEAF1_ECX_HYPERVISOR))
		return 0;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	return strcmp(sig, "TCGTCGTCGTCG") == 0;
}
