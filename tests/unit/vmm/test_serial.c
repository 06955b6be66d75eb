// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <string.h>

#include "devices/serial.h"

struct sink {
	char out[256];
	unsigned n;
	int irq, irq_changes;
};

static void out_cb(void *o, uint8_t b)
{
	struct sink *s = o;
	s->out[s->n++] = b;
}

static void irq_cb(void *o, int level)
{
	struct sink *s = o;
	s->irq = level;
	s->irq_changes++;
}

static struct serial uart;
static struct sink sink;

static void setup(void)
{
	memset(&sink, 0, sizeof(sink));
	serial_init(&uart, out_cb, irq_cb, &sink);
}

TestSuite(serial, .init = setup);

Test(serial, transmits_bytes)
{
	serial_write(&uart, UART_RBR_THR, 'h');
	serial_write(&uart, UART_RBR_THR, 'i');
	cr_assert_eq(sink.n, 2);
	cr_assert_eq(memcmp(sink.out, "hi", 2), 0);
	cr_assert_eq(serial_read(&uart, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
		     UART_LSR_THRE | UART_LSR_TEMT);
	cr_assert_eq(sink.irq_changes, 0, "no interrupt while IER is 0");
}

Test(serial, divisor_latch_does_not_transmit)
{
	serial_write(&uart, UART_LCR, UART_LCR_DLAB | 3);
	serial_write(&uart, UART_RBR_THR, 0x01);
	serial_write(&uart, UART_IER, 0x00);
	cr_assert_eq(sink.n, 0);
	cr_assert_eq(serial_read(&uart, UART_RBR_THR), 0x01);
	serial_write(&uart, UART_LCR, 3);
	cr_assert_eq(serial_read(&uart, UART_IER), 0, "IER untouched by the divisor write");
	cr_assert_eq(serial_read(&uart, UART_LCR), 3);
}

Test(serial, thre_interrupt_raised_and_cleared_by_iir)
{
	serial_write(&uart, UART_IER, UART_IER_THRI);
	cr_assert_eq(sink.irq, 1, "enabling THRI with an empty THR interrupts");
	cr_assert_eq(serial_read(&uart, UART_IIR_FCR) & 0x0f, UART_IIR_THRI);
	cr_assert_eq(sink.irq, 0, "reading IIR clears THRI");
	cr_assert_eq(serial_read(&uart, UART_IIR_FCR) & 0x0f, UART_IIR_NO_INT);
	serial_write(&uart, UART_RBR_THR, 'x');
	cr_assert_eq(sink.irq, 1, "each transmitted byte re-arms THRI");
}

Test(serial, receive_sets_dr_and_interrupts_with_priority)
{
	const uint8_t in[] = "ab";

	serial_write(&uart, UART_IER, UART_IER_RDI | UART_IER_THRI);
	cr_assert_eq(serial_rx_push(&uart, in, 2), 2);
	cr_assert_eq(sink.irq, 1);
	cr_assert(serial_read(&uart, UART_LSR) & UART_LSR_DR);
	cr_assert_eq(serial_read(&uart, UART_IIR_FCR) & 0x0f, UART_IIR_RDI, "RX before THRE");
	cr_assert_eq(serial_read(&uart, UART_RBR_THR), 'a');
	cr_assert_eq(serial_read(&uart, UART_RBR_THR), 'b');
	cr_assert_eq(serial_read(&uart, UART_LSR) & UART_LSR_DR, 0);
	cr_assert_eq(serial_read(&uart, UART_IIR_FCR) & 0x0f, UART_IIR_THRI);
	cr_assert_eq(sink.irq, 0);
}

Test(serial, fifo_holds_64_bytes_and_keeps_order)
{
	uint8_t in[100];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = i;
	cr_assert_eq(serial_rx_push(&uart, in, sizeof(in)), SERIAL_FIFO_LEN);
	cr_assert_eq(serial_rx_space(&uart), 0);
	for (unsigned i = 0; i < SERIAL_FIFO_LEN; i++)
		cr_assert_eq(serial_read(&uart, UART_RBR_THR), i);
	cr_assert_eq(serial_rx_push(&uart, in + 64, 36), 36);
	cr_assert_eq(serial_read(&uart, UART_RBR_THR), 64, "ring wraps in order");
}

Test(serial, host_input_waits_until_the_guest_listens)
{
	cr_assert_eq(serial_rx_ready(&uart), 0);
	serial_write(&uart, UART_IER, UART_IER_RDI);  /* the 8250 probe's IER test */
	cr_assert_eq(serial_rx_ready(&uart), 0, "OUT2 still clear: not opened");
	serial_write(&uart, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	cr_assert_eq(serial_rx_ready(&uart), 0, "loopback test");
	serial_write(&uart, UART_MCR, UART_MCR_OUT2 | 0x03);  /* startup: OUT2, DTR, RTS */
	cr_assert_eq(serial_rx_ready(&uart), SERIAL_FIFO_LEN);
}

Test(serial, fcr_clears_receiver)
{
	const uint8_t in[] = "xyz";

	serial_rx_push(&uart, in, 3);
	serial_write(&uart, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	cr_assert_eq(serial_read(&uart, UART_LSR) & UART_LSR_DR, 0);
	cr_assert_eq(serial_read(&uart, UART_IIR_FCR) & 0xc0, 0xc0, "16550A FIFO bits");
}

Test(serial, loopback_for_the_driver_probe)
{
	serial_write(&uart, UART_MCR, UART_MCR_LOOP | 0x0a);  /* RTS | OUT2 */
	cr_assert_eq(serial_read(&uart, UART_MSR) & 0xf0, 0x90, "RTS->CTS, OUT2->DCD");
	serial_write(&uart, UART_RBR_THR, 0x5a);
	cr_assert_eq(sink.n, 0, "looped back, not transmitted");
	cr_assert_eq(serial_read(&uart, UART_RBR_THR), 0x5a);
	serial_write(&uart, UART_MCR, 0);
	cr_assert_eq(serial_read(&uart, UART_MSR), 0xb0);
}

Test(serial, scratch_register)
{
	serial_write(&uart, UART_SCR, 0xa5);
	cr_assert_eq(serial_read(&uart, UART_SCR), 0xa5);
}
