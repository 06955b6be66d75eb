/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86 state for snapshots: each vCPU's and the VM's in-kernel state, read
 * and written in the orders KVM needs (Firecracker's, with their reasons):
 *  save:    MP_STATE (it accepts pending APIC events), REGS, SREGS, XSAVE,
 *           XCRS, DEBUGREGS, LAPIC, TSC_KHZ, CPUID, MSRs, VCPU_EVENTS last;
 *  restore: CPUID, MP_STATE, REGS (before events: SET_REGS clears pending
 *           exceptions), SREGS (before LAPIC: it holds the APIC base), XSAVE,
 *           XCRS, DEBUGREGS, LAPIC (before MSRs: TSC_DEADLINE needs it), MSRs
 *           with TSC_DEADLINE after TSC, VCPU_EVENTS, then KVMCLOCK_CTRL so
 *           the guest knows it was paused.
 *  VM:      PIT, kvmclock (without KVM_CLOCK_REALTIME: the guest's clocks go
 *           on from the snapshot), PIC master, PIC slave, IOAPIC.
 * The structs are KVM's own, whose layout is the kernel ABI; a state file
 * records sizeof(struct x86_vcpu_state) so another build's file is refused.
 */
#ifndef IGN_X86_STATE_H
#define IGN_X86_STATE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "ign/err.h"

#define X86_SNAP_MAX_MSRS 512
#define X86_SNAP_MAX_CPUID 256
#define X86_STATE_XSAVE 1    /* xsave (else fpu) holds the FPU state */
#define X86_STATE_XCRS 2

struct x86_vcpu_state {
	uint32_t index, flags, tsc_khz, nmsrs, ncpuid, pad;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_msr_entry msrs[X86_SNAP_MAX_MSRS];
	struct kvm_cpuid_entry2 cpuid[X86_SNAP_MAX_CPUID];
};

struct x86_vm_state {
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct kvm_irqchip chip[3];   /* PIC master, PIC slave, IOAPIC */
};

/* The MSRs KVM saves and restores for migration (KVM_GET_MSR_INDEX_LIST). */
int x86_msr_index_list(int kvm_fd, uint32_t **out, unsigned *n, struct ign_err *err);
/* Reads vCPU `fd` (stopped, pending I/O completed) into s; msrs: the list above. */
int x86_vcpu_save(int kvm_fd, int fd, const uint32_t *msrs, unsigned nmsrs,
		  struct x86_vcpu_state *s, struct ign_err *err);
int x86_vcpu_restore(int kvm_fd, int fd, const struct x86_vcpu_state *s, struct ign_err *err);
int x86_vm_save(int vm_fd, struct x86_vm_state *s, struct ign_err *err);
int x86_vm_restore(int vm_fd, const struct x86_vm_state *s, struct ign_err *err);

#endif
