// SPDX-License-Identifier: Apache-2.0
/*
 * ign-snapcmp A B: compares two snapshots' state files field by field, the
 * round trip of the KVM selftests' state_test: B is A restored and saved
 * again at once (ign-vmm --restore A --resave B), so every saved register and
 * device field must come back as it was. What may differ, and why:
 *   - the TSC MSR, kvmclock and the Hyper-V time counters KVM lists among its
 *     MSRs (VP_RUNTIME, TIME_REF_COUNT; 100 ns units) go on with host time:
 *     B's may be ahead of A's by less than a minute, never behind;
 *   - the LAPIC timer's current count (0x390) is computed from host time;
 *   - a TSC deadline of 0 (disarmed) comes back as the TSC at the restore:
 *     the restore arms it so that the timer fires at once;
 *   - the PIT channels' count_load_time is a host timestamp;
 *   - TR's busy bit: the restore sets TR available under QEMU's emulator
 *     (docs/snapshot-format.md, "TR");
 *   - META's parent lines and a diff's page list (B is always full).
 * Prints one line per difference; exit 0 when none, 1 when some, 2 on error.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/state.h"
#include "snapshot/snapfile.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define HV_X64_MSR_VP_RUNTIME 0x40000010
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020
#define APIC_TMCCT 0x390
#define MAX_AHEAD_S 60

static unsigned ndiff;

static void differ(const char *where, const char *field, const void *a, const void *b,
		   size_t len)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0;

	while (i < len && x[i] == y[i])
		i++;
	if (i == len)
		return;
	ndiff++;
	if (len <= 8) {
		uint64_t u = 0, v = 0;
		memcpy(&u, a, len);
		memcpy(&v, b, len);
		printf("%s %s: 0x%" PRIx64 " != 0x%" PRIx64 "\n", where, field, u, v);
	} else {
		printf("%s %s: byte %zu of %zu differs (0x%02x != 0x%02x)\n", where, field, i, len,
		       x[i], y[i]);
	}
}

/* b may be ahead of a by less than max, never behind */
static void ahead(const char *where, const char *field, uint64_t a, uint64_t b, uint64_t max)
{
	if (b >= a && b - a < max)
		return;
	ndiff++;
	printf("%s %s: 0x%" PRIx64 " then 0x%" PRIx64 " (not ahead by less than %ds)\n", where,
	       field, a, b, MAX_AHEAD_S);
}

#define SAME(w, a, b, f) differ(w, #f, &(a)->f, &(b)->f, sizeof((a)->f))

static void cmp_segment(const char *w, const char *name, struct kvm_segment a,
			struct kvm_segment b, int tr)
{
	if (tr && (a.type & ~2u) == 0x9 && (b.type & ~2u) == 0x9)
		a.type = b.type;  /* TSS busy or available (see above) */
	differ(w, name, &a, &b, sizeof(a));
}

static uint64_t msr(const struct x86_vcpu_state *s, uint32_t index)
{
	for (unsigned i = 0; i < s->nmsrs && i < X86_SNAP_MAX_MSRS; i++)
		if (s->msrs[i].index == index)
			return s->msrs[i].data;
	return 0;
}

static void cmp_vcpu(const struct x86_vcpu_state *a, const struct x86_vcpu_state *b)
{
	char w[32];

	snprintf(w, sizeof(w), "vcpu%u", a->index);
	SAME(w, a, b, index);
	SAME(w, a, b, flags);
	SAME(w, a, b, tsc_khz);
	SAME(w, a, b, nmsrs);
	SAME(w, a, b, ncpuid);
	SAME(w, a, b, mp);
#define REG(f) SAME(w, &a->regs, &b->regs, f)
	REG(rax); REG(rbx); REG(rcx); REG(rdx); REG(rsi); REG(rdi); REG(rsp); REG(rbp);
	REG(r8); REG(r9); REG(r10); REG(r11); REG(r12); REG(r13); REG(r14); REG(r15);
	REG(rip); REG(rflags);
#undef REG
	const struct kvm_sregs *sa = &a->sregs, *sb = &b->sregs;
	cmp_segment(w, "sregs.cs", sa->cs, sb->cs, 0);
	cmp_segment(w, "sregs.ds", sa->ds, sb->ds, 0);
	cmp_segment(w, "sregs.es", sa->es, sb->es, 0);
	cmp_segment(w, "sregs.fs", sa->fs, sb->fs, 0);
	cmp_segment(w, "sregs.gs", sa->gs, sb->gs, 0);
	cmp_segment(w, "sregs.ss", sa->ss, sb->ss, 0);
	cmp_segment(w, "sregs.tr", sa->tr, sb->tr, 1);
	cmp_segment(w, "sregs.ldt", sa->ldt, sb->ldt, 0);
#define SREG(f) SAME(w, sa, sb, f)
	SREG(gdt); SREG(idt); SREG(cr0); SREG(cr2); SREG(cr3); SREG(cr4); SREG(cr8);
	SREG(efer); SREG(apic_base); SREG(interrupt_bitmap);
#undef SREG
	if (a->flags & X86_STATE_XSAVE)
		SAME(w, a, b, xsave);
	else
		SAME(w, a, b, fpu);
	SAME(w, a, b, xcrs);
	SAME(w, a, b, dregs);
	struct kvm_lapic_state la = a->lapic, lb = b->lapic;
	memset(&la.regs[APIC_TMCCT], 0, 4);
	memset(&lb.regs[APIC_TMCCT], 0, 4);
	for (unsigned off = 0; off < sizeof(la.regs); off += 16) {
		char f[32];
		snprintf(f, sizeof(f), "lapic[0x%03x]", off);
		differ(w, f, &la.regs[off], &lb.regs[off], 4);
	}
	SAME(w, a, b, events);
	unsigned n = a->nmsrs < X86_SNAP_MAX_MSRS ? a->nmsrs : X86_SNAP_MAX_MSRS;
	for (unsigned i = 0; i < n && a->nmsrs == b->nmsrs; i++) {
		const struct kvm_msr_entry *x = &a->msrs[i], *y = &b->msrs[i];
		char f[32];
		snprintf(f, sizeof(f), "msr 0x%x", x->index);
		if (x->index != y->index)
			differ(w, "msr index", &x->index, &y->index, 4);
		else if (x->index == MSR_IA32_TSC)
			ahead(w, f, x->data, y->data, (uint64_t)a->tsc_khz * 1000 * MAX_AHEAD_S);
		else if (x->index == MSR_IA32_TSC_DEADLINE && x->data == 0)
			ahead(w, f, msr(a, MSR_IA32_TSC), y->data,
			      msr(b, MSR_IA32_TSC) - msr(a, MSR_IA32_TSC) + 1);
		else if (x->index == HV_X64_MSR_VP_RUNTIME || x->index == HV_X64_MSR_TIME_REF_COUNT)
			ahead(w, f, x->data, y->data, MAX_AHEAD_S * 10000000ull);
		else
			differ(w, f, &x->data, &y->data, sizeof(x->data));
	}
	SAME(w, a, b, cpuid);
}

static void cmp_vm(const struct x86_vm_state *a, const struct x86_vm_state *b)
{
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state x = a->pit.channels[i], y = b->pit.channels[i];
		char f[32];
		x.count_load_time = y.count_load_time = 0;
		snprintf(f, sizeof(f), "pit.channels[%u]", i);
		differ("vm", f, &x, &y, sizeof(x));
	}
	SAME("vm", &a->pit, &b->pit, flags);
	ahead("vm", "kvmclock", a->clock.clock, b->clock.clock, MAX_AHEAD_S * 1000000000ull);
	SAME("vm", a, b, chip[0].chip.pic);
	SAME("vm", a, b, chip[1].chip.pic);
	SAME("vm", a, b, chip[2].chip.ioapic);
}

/* META without the lines only a diff has */
static void cmp_meta(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	char x[4096] = "", y[4096] = "";
	char *keep[2] = { x, y };
	const uint8_t *src[2] = { a, b };
	size_t len[2] = { alen, blen };

	for (int k = 0; k < 2; k++) {
		char *out = keep[k];
		size_t o = 0;
		const char *p = (const char *)src[k], *end = p + len[k];
		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			size_t l = (nl ? nl + 1 : end) - p;
			if (strncmp(p, "parent", 6) && o + l < sizeof(x)) {
				memcpy(out + o, p, l);
				o += l;
			}
			p += l;
		}
	}
	if (strcmp(x, y)) {
		ndiff++;
		printf("meta: differs:\n%s---\n%s", x, y);
	}
}

int main(int argc, char **argv)
{
	struct snap_reader ra = { 0 }, rb = { 0 };
	struct ign_err err = { 0 };
	char pa[4096], pb[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: ign-snapcmp SNAPSHOT_A SNAPSHOT_B\n");
		return 2;
	}
	snprintf(pa, sizeof(pa), "%s/state", argv[1]);
	snprintf(pb, sizeof(pb), "%s/state", argv[2]);
	if (snap_open(pa, &ra, &err) < 0 || snap_open(pb, &rb, &err) < 0) {
		fprintf(stderr, "ign-snapcmp: %s\n", err.msg);
		return 2;
	}
	unsigned sections = 0, vcpus = 0;
	for (;;) {
		uint32_t ta = snap_peek(&ra), tb;
		const uint8_t *da, *db;
		size_t la, lb;
		if (ta == SNAP_PAGES && snap_next(&ra, ta, &da, &la, &err) < 0)
			break;
		ta = snap_peek(&ra);
		tb = snap_peek(&rb);
		if (!ta && !tb)
			break;
		if (ta != tb) {
			printf("section %u: tag %u != %u\n", sections, ta, tb);
			ndiff++;
			break;
		}
		if (snap_next(&ra, ta, &da, &la, &err) < 0 || snap_next(&rb, tb, &db, &lb, &err) < 0)
			break;
		sections++;
		if (ta == SNAP_META) {
			cmp_meta(da, la, db, lb);
			continue;
		}
		char w[32];
		snprintf(w, sizeof(w), "section %u (tag %u)", sections - 1, ta);
		if (la != lb) {
			printf("%s: %zu bytes != %zu\n", w, la, lb);
			ndiff++;
		} else if (ta == SNAP_VM && la == sizeof(struct x86_vm_state)) {
			struct x86_vm_state x, y;
			memcpy(&x, da, la);
			memcpy(&y, db, lb);
			cmp_vm(&x, &y);
		} else if (ta == SNAP_VCPU && la == sizeof(struct x86_vcpu_state)) {
			struct x86_vcpu_state *x = malloc(la), *y = malloc(lb);
			if (!x || !y) {
				free(x);
				free(y);
				fprintf(stderr, "ign-snapcmp: out of memory\n");
				return 2;
			}
			memcpy(x, da, la);
			memcpy(y, db, lb);
			cmp_vcpu(x, y);
			vcpus++;
			free(x);
			free(y);
		} else {
			differ(w, "device state", da, db, la);
		}
	}
	snap_close(&ra);
	snap_close(&rb);
	if (err.msg[0]) {
		fprintf(stderr, "ign-snapcmp: %s\n", err.msg);
		return 2;
	}
	printf("ign-snapcmp: %u sections (%u vCPUs), %u differences\n", sections, vcpus, ndiff);
	return ndiff ? 1 : 0;
}
