/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 16550A UART register model (no KVM here): the guest's console on 0x3f8,
 * IRQ 4. Transmitted bytes go to an output callback; received bytes are
 * pushed in by the VMM's console thread. The interrupt line is recomputed on
 * every register access and reported only when it changes.
 *
 * Threading: not locked itself; the port I/O bus serialises accesses.
 */
#ifndef IGN_SERIAL_H
#define IGN_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"
#include "snapshot/snapfile.h"

#define SERIAL_FIFO_LEN 64

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_IER_RDI   0x01
#define UART_IER_THRI  0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_FIFO  0xc0
#define UART_LCR_DLAB  0x80
#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ  4

#define UART_MCR_OUT2  0x08
#define UART_MCR_LOOP  0x10
#define UART_LSR_DR    0x01
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02

struct serial {
	uint8_t ier, lcr, mcr, scr, fcr, msr, dll, dlm;
	int thr_empty_irq;      /* THRE interrupt pending (cleared by reading IIR) */
	uint8_t rx[SERIAL_FIFO_LEN];
	unsigned rx_head, rx_count;
	int irq_level;
	void (*output)(void *opaque, uint8_t byte);
	void (*set_irq)(void *opaque, int level);
	void *opaque;
};

void serial_init(struct serial *s, void (*output)(void *, uint8_t),
		 void (*set_irq)(void *, int), void *opaque);
void serial_write(struct serial *s, unsigned off, uint8_t val);
uint8_t serial_read(struct serial *s, unsigned off);
/* Queues received bytes; returns how many fit in the FIFO. */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);
size_t serial_rx_space(const struct serial *s);
/*
 * How many bytes the host should push now: the FIFO space once the guest's
 * driver has opened the port (receive interrupts enabled, OUT2 set to let
 * the interrupt out, not in loopback), else 0. Linux's 8250 probe toggles
 * IER and its startup clears the FIFO, so bytes pushed earlier would be lost.
 */
size_t serial_rx_ready(const struct serial *s);
/* Snapshots: the registers and the receive FIFO (not the callbacks). */
void serial_save(const struct serial *s, struct snap_buf *b);
int serial_restore(struct serial *s, const uint8_t *data, size_t len, struct ign_err *err);

#endif
