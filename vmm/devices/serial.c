// SPDX-License-Identifier: Apache-2.0
/*
 * 16550A behaviour that Linux's 8250 driver relies on: DLAB-latched divisor,
 * IIR priority (received data above THR empty), THRE interrupt re-armed by
 * each write to THR or to IER, cleared by reading IIR, loopback mode for the
 * driver's probe, scratch register. Modem lines report CTS/DSR/DCD.
 */
#include "serial.h"

#include <errno.h>
#include <string.h>

#define MSR_CTS_DSR_DCD 0xb0

static void serial_update_irq(struct serial *s)
{
	int level = ((s->ier & UART_IER_RDI) && s->rx_count) ||
		    ((s->ier & UART_IER_THRI) && s->thr_empty_irq);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->opaque, level);
	}
}

void serial_init(struct serial *s, void (*output)(void *, uint8_t),
		 void (*set_irq)(void *, int), void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->msr = MSR_CTS_DSR_DCD;
	s->output = output;
	s->set_irq = set_irq;
	s->opaque = opaque;
}

static void serial_rx_put(struct serial *s, uint8_t b)
{
	if (s->rx_count == SERIAL_FIFO_LEN)
		return;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_LEN] = b;
	s->rx_count++;
}

size_t serial_rx_space(const struct serial *s)
{
	return SERIAL_FIFO_LEN - s->rx_count;
}

size_t serial_rx_ready(const struct serial *s)
{
	int open = (s->ier & UART_IER_RDI) && (s->mcr & UART_MCR_OUT2) &&
		   !(s->mcr & UART_MCR_LOOP);

	return open ? serial_rx_space(s) : 0;
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && s->rx_count < SERIAL_FIFO_LEN)
		serial_rx_put(s, buf[n++]);
	serial_update_irq(s);
	return n;
}

void serial_write(struct serial *s, unsigned off, uint8_t val)
{
	int dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_RBR_THR:
		if (dlab) {
			s->dll = val;
			break;
		}
		if (s->mcr & UART_MCR_LOOP)
			serial_rx_put(s, val);
		else if (s->output)
			s->output(s->opaque, val);
		s->thr_empty_irq = 1;  /* transmission is instant */
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = val;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once, as on hardware. */
		if (!(s->ier & UART_IER_THRI) && (val & UART_IER_THRI))
			s->thr_empty_irq = 1;
		s->ier = val & 0x0f;
		break;
	case UART_IIR_FCR:
		s->fcr = val & 0xc9;
		if (val & UART_FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
	serial_update_irq(s);
}

static uint8_t serial_iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_empty_irq) {
		s->thr_empty_irq = 0;
		return fifo | UART_IIR_THRI;
	}
	return fifo | UART_IIR_NO_INT;
}

static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & UART_MCR_LOOP))
		return s->msr;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return ((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
	       ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4);
}

uint8_t serial_read(struct serial *s, unsigned off)
{
	int dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (off) {
	case UART_RBR_THR:
		if (dlab) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_LEN;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = serial_iir(s);
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
		break;
	case UART_MSR:
		v = serial_msr(s);
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	return v;
}

struct serial_state {
	uint8_t ier, lcr, mcr, scr, fcr, msr, dll, dlm;
	uint8_t thr_empty_irq, irq_level;
	uint16_t rx_head, rx_count;
	uint8_t rx[SERIAL_FIFO_LEN];
};

void serial_save(const struct serial *s, struct snap_buf *b)
{
	struct serial_state st = {
		.ier = s->ier, .lcr = s->lcr, .mcr = s->mcr, .scr = s->scr, .fcr = s->fcr,
		.msr = s->msr, .dll = s->dll, .dlm = s->dlm, .thr_empty_irq = !!s->thr_empty_irq,
		.irq_level = !!s->irq_level, .rx_head = s->rx_head, .rx_count = s->rx_count,
	};

	memcpy(st.rx, s->rx, sizeof(st.rx));
	snap_buf_put(b, &st, sizeof(st));
}

int serial_restore(struct serial *s, const uint8_t *data, size_t len, struct ign_err *err)
{
	struct serial_state st;

	if (len != sizeof(st))
		return ign_err_setx(err, EINVAL, "16550: saved state of %zu bytes", len);
	memcpy(&st, data, sizeof(st));
	if (st.rx_head >= SERIAL_FIFO_LEN || st.rx_count > SERIAL_FIFO_LEN)
		return ign_err_setx(err, EINVAL, "16550: saved FIFO at %u with %u bytes", st.rx_head,
				    st.rx_count);
	s->ier = st.ier, s->lcr = st.lcr, s->mcr = st.mcr, s->scr = st.scr, s->fcr = st.fcr;
	s->msr = st.msr, s->dll = st.dll, s->dlm = st.dlm;
	s->thr_empty_irq = st.thr_empty_irq;
	s->irq_level = st.irq_level;
	s->rx_head = st.rx_head;
	s->rx_count = st.rx_count;
	memcpy(s->rx, st.rx, sizeof(st.rx));
	return 0;
}
