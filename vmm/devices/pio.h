/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port I/O bus: a fixed table of [base, base+len) ranges, each with a
 * handler. One lock serialises all devices on it (port I/O here is only the
 * console and a few platform ports). Unclaimed ports read as all-ones and
 * ignore writes, as on a PC.
 */
#ifndef IGN_PIO_H
#define IGN_PIO_H

#include <pthread.h>
#include <stdint.h>

#define PIO_MAX_DEVICES 16

struct pio_ops {
	const char *name;
	void (*write)(void *dev, uint16_t off, const uint8_t *data, unsigned size);
	void (*read)(void *dev, uint16_t off, uint8_t *data, unsigned size);
};

struct pio_bus {
	pthread_mutex_t lock;
	unsigned n;
	struct {
		uint16_t base, len;
		const struct pio_ops *ops;
		void *dev;
	} range[PIO_MAX_DEVICES];
};

void pio_bus_init(struct pio_bus *bus);
int pio_bus_add(struct pio_bus *bus, uint16_t base, uint16_t len, const struct pio_ops *ops,
		void *dev);
void pio_bus_access(struct pio_bus *bus, uint16_t port, int is_write, uint8_t *data,
		    unsigned size);

#endif
