/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 table: tells the guest where its
 * CPUs' local APICs and the IOAPIC are and how ISA IRQs are wired, so Linux
 * routes interrupts through the IOAPIC and uses the LAPIC timer. Without it
 * the guest falls back to the 8259 PIC, whose idle loop hangs in nested KVM.
 */
#ifndef IGN_X86_MPTABLE_H
#define IGN_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define X86_IOAPIC_ADDR 0xfec00000U
#define X86_LAPIC_ADDR  0xfee00000U
#define X86_IOAPIC_PINS 24
#define X86_ISA_IRQS    16

/* Size the table for ncpus takes. */
size_t x86_mptable_size(unsigned ncpus);
/*
 * Writes the floating pointer and the configuration table into buf, which the
 * guest sees at base_gpa. Returns the bytes written, or -errno.
 */
int x86_mptable_write(uint8_t *buf, size_t buflen, uint32_t base_gpa, unsigned ncpus,
		      struct ign_err *err);

#endif
