// SPDX-License-Identifier: Apache-2.0
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../../kvm/kvm.h"
#include "cpuid.h"
#include "ign/cleanup.h"
#include "ign/log.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0

int x86_msr_index_list(int kvm_fd, uint32_t **out, unsigned *n, struct ign_err *err)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };

	/* the first call fails with E2BIG and says how many there are */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return ign_err_set(err, errno, "KVM_GET_MSR_INDEX_LIST");
	cleanup_free struct kvm_msr_list *l = calloc(1, sizeof(*l) + probe.nmsrs * 4);
	if (!l)
		return ign_err_set(err, ENOMEM, "MSR list");
	l->nmsrs = probe.nmsrs;
	int r = ign_ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l, err);
	if (r < 0)
		return r;
	uint32_t *v = malloc((l->nmsrs ? l->nmsrs : 1) * sizeof(*v));
	if (!v)
		return ign_err_set(err, ENOMEM, "MSR list");
	memcpy(v, l->indices, l->nmsrs * sizeof(*v));
	*out = v;
	*n = l->nmsrs;
	return 0;
}

/* A vCPU's CPUID for KVM_GET_CPUID2 / KVM_SET_CPUID2. */
struct cpuid_batch {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[X86_SNAP_MAX_CPUID];
};

/* MSR batches for KVM_GET_MSRS / KVM_SET_MSRS. */
struct msr_batch {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[X86_SNAP_MAX_MSRS];
};

/* Reads every MSR of the list that this vCPU has; those KVM refuses are left out. */
static int save_msrs(int fd, const uint32_t *msrs, unsigned n, struct x86_vcpu_state *s,
		     struct ign_err *err)
{
	cleanup_free struct msr_batch *b = calloc(1, sizeof(*b));
	unsigned i = 0;

	if (!b)
		return ign_err_set(err, ENOMEM, "MSRs");
	s->nmsrs = 0;
	while (i < n) {
		unsigned k = n - i < X86_SNAP_MAX_MSRS - s->nmsrs ? n - i : X86_SNAP_MAX_MSRS - s->nmsrs;
		if (!k)
			return ign_err_setx(err, E2BIG, "over %d MSRs to save", X86_SNAP_MAX_MSRS);
		b->hdr.nmsrs = k;
		for (unsigned j = 0; j < k; j++)
			b->e[j] = (struct kvm_msr_entry){ .index = msrs[i + j] };
		int r = ioctl(fd, KVM_GET_MSRS, b);
		if (r < 0)
			return ign_err_set(err, errno, "KVM_GET_MSRS");
		memcpy(s->msrs + s->nmsrs, b->e, r * sizeof(b->e[0]));
		s->nmsrs += r;
		i += r + ((unsigned)r < k);  /* skip the one this vCPU does not have */
	}
	return 0;
}

static int set_msrs(int fd, const struct kvm_msr_entry *e, unsigned n, struct ign_err *err)
{
	cleanup_free struct msr_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return ign_err_set(err, ENOMEM, "MSRs");
	b->hdr.nmsrs = n;
	memcpy(b->e, e, n * sizeof(*e));
	int r = ign_ioctl(fd, KVM_SET_MSRS, b, err);
	if (r < 0)
		return r;
	if ((unsigned)r != n)
		return ign_err_setx(err, EINVAL, "KVM_SET_MSRS: MSR 0x%x (value 0x%llx) refused",
				    b->e[r].index, (unsigned long long)b->e[r].data);
	return 0;
}

int x86_vcpu_save(int kvm_fd, int fd, const uint32_t *msrs, unsigned nmsrs,
		  struct x86_vcpu_state *s, struct ign_err *err)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		s->flags |= X86_STATE_XSAVE;
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		s->flags |= X86_STATE_XCRS;
	if ((r = ign_ioctl(fd, KVM_GET_MP_STATE, &s->mp, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_GET_REGS, &s->regs, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_GET_SREGS, &s->sregs, err)) < 0 ||
	    (r = (s->flags & X86_STATE_XSAVE) ? ign_ioctl(fd, KVM_GET_XSAVE, &s->xsave, err)
					       : ign_ioctl(fd, KVM_GET_FPU, &s->fpu, err)) < 0 ||
	    ((s->flags & X86_STATE_XCRS) && (r = ign_ioctl(fd, KVM_GET_XCRS, &s->xcrs, err)) < 0) ||
	    (r = ign_ioctl(fd, KVM_GET_DEBUGREGS, &s->dregs, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_GET_LAPIC, &s->lapic, err)) < 0)
		return r;
	if ((r = ign_ioctl(fd, KVM_GET_TSC_KHZ, 0, err)) < 0)
		return r;
	s->tsc_khz = r;
	struct cpuid_batch c = { .hdr.nent = X86_SNAP_MAX_CPUID };
	if ((r = ign_ioctl(fd, KVM_GET_CPUID2, &c, err)) < 0)
		return r;
	s->ncpuid = c.hdr.nent;
	memcpy(s->cpuid, c.e, s->ncpuid * sizeof(c.e[0]));
	if ((r = save_msrs(fd, msrs, nmsrs, s, err)) < 0)
		return r;
	return ign_ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events, err);
}

int x86_vcpu_restore(int kvm_fd, int fd, const struct x86_vcpu_state *s, struct ign_err *err)
{
	struct kvm_msr_entry late[2];
	unsigned nlate = 0, nearly = 0;
	uint64_t tsc = 0;
	int r;

	if (s->ncpuid > X86_SNAP_MAX_CPUID || s->nmsrs > X86_SNAP_MAX_MSRS)
		return ign_err_setx(err, EINVAL, "vCPU %u: %u CPUID entries, %u MSRs", s->index,
				    s->ncpuid, s->nmsrs);
	int host_khz = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	if (host_khz > 0 && (uint32_t)host_khz != s->tsc_khz &&
	    ign_ioctl(fd, KVM_SET_TSC_KHZ, (unsigned long)s->tsc_khz, err) < 0)
		return ign_err_setx(err, EINVAL, "the snapshot's TSC runs at %u kHz, this host's at "
				    "%d kHz, and KVM cannot scale it: restore on the machine that "
				    "made the snapshot", s->tsc_khz, host_khz);
	struct cpuid_batch c = { .hdr.nent = s->ncpuid };
	memcpy(c.e, s->cpuid, s->ncpuid * sizeof(c.e[0]));
	if ((r = ign_ioctl(fd, KVM_SET_CPUID2, &c, err)) < 0)
		return ign_err_wrap(err, "CPUID");
	if ((s->flags & X86_STATE_XSAVE) && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0)
		return ign_err_setx(err, ENOTSUP, "the snapshot holds XSAVE state and this KVM has "
				    "no XSAVE");
	/*
	 * KVM on AMD reports every TR as a busy TSS (type 11). QEMU's emulator
	 * checks a user process's I/O permission bitmap only through an
	 * available one (type 9) and raises #GP otherwise, so under it a
	 * restored guest could no longer use the ports ioperm() gave it. Real
	 * CPUs ignore the type there; only under the emulator is it changed.
	 */
	struct kvm_sregs sregs = s->sregs;
	if (sregs.tr.type == 11 && x86_host_is_emulated())
		sregs.tr.type = 9;
	if ((r = ign_ioctl(fd, KVM_SET_MP_STATE, &s->mp, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_SET_REGS, &s->regs, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_SET_SREGS, &sregs, err)) < 0 ||
	    (r = (s->flags & X86_STATE_XSAVE) ? ign_ioctl(fd, KVM_SET_XSAVE, &s->xsave, err)
					       : ign_ioctl(fd, KVM_SET_FPU, &s->fpu, err)) < 0 ||
	    ((s->flags & X86_STATE_XCRS) && (r = ign_ioctl(fd, KVM_SET_XCRS, &s->xcrs, err)) < 0) ||
	    (r = ign_ioctl(fd, KVM_SET_DEBUGREGS, &s->dregs, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_SET_LAPIC, &s->lapic, err)) < 0)
		return r;
	/* MSRs: TSC_DEADLINE after TSC, and a zero deadline re-armed at once (else lost) */
	struct kvm_msr_entry *early = calloc(s->nmsrs ? s->nmsrs : 1, sizeof(*early));
	if (!early)
		return ign_err_set(err, ENOMEM, "MSRs");
	for (unsigned i = 0; i < s->nmsrs; i++) {
		if (s->msrs[i].index == MSR_IA32_TSC)
			tsc = s->msrs[i].data;
		if (s->msrs[i].index == MSR_IA32_TSC_DEADLINE && nlate < 2)
			late[nlate++] = s->msrs[i];
		else
			early[nearly++] = s->msrs[i];
	}
	for (unsigned i = 0; i < nlate; i++)
		if (!late[i].data)
			late[i].data = tsc;
	r = set_msrs(fd, early, nearly, err);
	free(early);
	if (r < 0 || (r = set_msrs(fd, late, nlate, err)) < 0 ||
	    (r = ign_ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events, err)) < 0)
		return r;
	/* EINVAL when the guest never set up kvmclock: nothing to tell it then */
	if (ioctl(fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %s", s->index, strerror(errno));
	return 0;
}

int x86_vm_save(int vm_fd, struct x86_vm_state *s, struct ign_err *err)
{
	int r;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 3; i++) {
		s->chip[i].chip_id = i;
		if ((r = ign_ioctl(vm_fd, KVM_GET_IRQCHIP, &s->chip[i], err)) < 0)
			return r;
	}
	if ((r = ign_ioctl(vm_fd, KVM_GET_PIT2, &s->pit, err)) < 0)
		return r;
	return ign_ioctl(vm_fd, KVM_GET_CLOCK, &s->clock, err);
}

int x86_vm_restore(int vm_fd, const struct x86_vm_state *s, struct ign_err *err)
{
	struct kvm_clock_data clock = { .clock = s->clock.clock };  /* no REALTIME: no jump */
	int r;

	if ((r = ign_ioctl(vm_fd, KVM_SET_PIT2, &s->pit, err)) < 0 ||
	    (r = ign_ioctl(vm_fd, KVM_SET_CLOCK, &clock, err)) < 0)
		return r;
	for (unsigned i = 0; i < 3; i++)
		if ((r = ign_ioctl(vm_fd, KVM_SET_IRQCHIP, &s->chip[i], err)) < 0)
			return r;
	return 0;
}
