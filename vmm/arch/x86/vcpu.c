// SPDX-License-Identifier: Apache-2.0
/*
 * vCPU boot state for the 64-bit entry (Documentation/x86/boot.rst): long
 * mode with paging on, CS a 64-bit code segment, DS/ES/SS flat data, RSI the
 * zero page, interrupts off. Order matters only for CPUID, which KVM wants
 * before the first KVM_RUN and before MSRs that depend on it.
 */
#include "vcpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../kvm/kvm.h"
#include "boot.h"
#include "cpuid.h"
#include "ign/cleanup.h"

#define MSR_IA32_SYSENTER_CS   0x174
#define MSR_IA32_SYSENTER_ESP  0x175
#define MSR_IA32_SYSENTER_EIP  0x176
#define MSR_STAR               0xc0000081
#define MSR_LSTAR              0xc0000082
#define MSR_CSTAR              0xc0000083
#define MSR_SYSCALL_MASK       0xc0000084
#define MSR_KERNEL_GS_BASE     0xc0000102
#define MSR_IA32_TSC           0x10
#define MSR_IA32_MISC_ENABLE   0x1a0
#define MSR_MTRR_DEF_TYPE      0x2ff
#define MISC_ENABLE_FAST_STRING 1
#define MTRR_ENABLE_WB          ((1u << 11) | 6)

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

int x86_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out, struct ign_err *err)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		cleanup_free struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
		if (!c)
			return ign_err_set(err, ENOMEM, "KVM_GET_SUPPORTED_CPUID");
		c->nent = n;
		int r = ign_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c, err);
		if (r == -E2BIG)
			continue;
		if (r < 0)
			return r;
		*out = steal_ptr(&c);
		return 0;
	}
	return ign_err_setx(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

static int vcpu_cpuid(int fd, const struct x86_vcpu_boot *b, struct ign_err *err)
{
	size_t sz = sizeof(struct kvm_cpuid2) + b->supported->nent * sizeof(struct kvm_cpuid_entry2);
	cleanup_free struct kvm_cpuid2 *c = malloc(sz);
	struct x86_cpuid_opts o = { .vcpu = b->index, .nvcpus = b->nvcpus,
				    .hide_xsave = b->hide_xsave, .tsc_deadline = b->tsc_deadline };

	if (!c)
		return ign_err_set(err, ENOMEM, "CPUID");
	memcpy(c, b->supported, sz);
	x86_cpuid_filter(c->entries, c->nent, &o);
	return ign_ioctl(fd, KVM_SET_CPUID2, c, err);
}

static int vcpu_msrs(int fd, struct ign_err *err)
{
	static const struct kvm_msr_entry boot_msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS }, { .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP }, { .index = MSR_STAR },
		{ .index = MSR_CSTAR }, { .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_SYSCALL_MASK }, { .index = MSR_LSTAR },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
		{ .index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE_WB },
	};
	const unsigned n = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(boot_msrs) / sizeof(boot_msrs[0])];
	} m = { .hdr.nmsrs = n };

	memcpy(m.e, boot_msrs, sizeof(boot_msrs));
	int r = ign_ioctl(fd, KVM_SET_MSRS, &m, err);
	if (r < 0)
		return r;
	if ((unsigned)r != n)  /* KVM_SET_MSRS returns how many it set */
		return ign_err_setx(err, EINVAL, "KVM_SET_MSRS: MSR 0x%x refused",
				    m.e[r].index);
	return 0;
}

static void lapic_set_lvt_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, 4);
}

static int vcpu_lapic(int fd, struct ign_err *err)
{
	struct kvm_lapic_state l;
	int r = ign_ioctl(fd, KVM_GET_LAPIC, &l, err);

	if (r < 0)
		return r;
	lapic_set_lvt_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_lvt_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	return ign_ioctl(fd, KVM_SET_LAPIC, &l, err);
}

static int vcpu_long_mode(int fd, uint64_t entry, struct ign_err *err)
{
	struct kvm_sregs s;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_regs regs = {
		.rip = entry, .rsi = X86_BOOT_ZERO_PAGE, .rsp = X86_BOOT_STACK,
		.rbp = X86_BOOT_STACK, .rflags = 2,
	};
	int r = ign_ioctl(fd, KVM_GET_SREGS, &s, err);

	if (r < 0)
		return r;
	struct kvm_segment code = {
		.base = 0, .limit = 0xfffff, .selector = X86_GDT_CODE_SEL, .type = 11,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = X86_GDT_DATA_SEL;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = X86_BOOT_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr3 = X86_BOOT_PML4;
	s.cr4 = CR4_PAE;
	s.cr0 = CR0_PE | CR0_ET | CR0_PG;
	s.efer = EFER_LME | EFER_LMA;
	if ((r = ign_ioctl(fd, KVM_SET_SREGS, &s, err)) < 0)
		return r;
	if ((r = ign_ioctl(fd, KVM_SET_FPU, &fpu, err)) < 0)
		return r;
	return ign_ioctl(fd, KVM_SET_REGS, &regs, err);
}

int x86_vcpu_boot_setup(int fd, const struct x86_vcpu_boot *b, struct ign_err *err)
{
	int r;

	if ((r = vcpu_cpuid(fd, b, err)) < 0)
		return r;
	if ((r = vcpu_msrs(fd, err)) < 0)
		return r;
	if ((r = vcpu_lapic(fd, err)) < 0)
		return r;
	if (b->index == 0)
		return vcpu_long_mode(fd, b->entry, err);
	return 0;
}
