// SPDX-License-Identifier: Apache-2.0
#include "pio.h"

#include <errno.h>
#include <string.h>

#include "ign/log.h"

void pio_bus_init(struct pio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

int pio_bus_add(struct pio_bus *bus, uint16_t base, uint16_t len, const struct pio_ops *ops,
		void *dev)
{
	if (bus->n == PIO_MAX_DEVICES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++)
		if (base < bus->range[i].base + bus->range[i].len &&
		    bus->range[i].base < base + len)
			return -EEXIST;
	bus->range[bus->n].base = base;
	bus->range[bus->n].len = len;
	bus->range[bus->n].ops = ops;
	bus->range[bus->n].dev = dev;
	bus->n++;
	return 0;
}

void pio_bus_access(struct pio_bus *bus, uint16_t port, int is_write, uint8_t *data,
		    unsigned size)
{
	pthread_mutex_lock(&bus->lock);
	for (unsigned i = 0; i < bus->n; i++) {
		uint16_t off = port - bus->range[i].base;
		if (port < bus->range[i].base || off >= bus->range[i].len)
			continue;
		if (is_write)
			bus->range[i].ops->write(bus->range[i].dev, off, data, size);
		else
			bus->range[i].ops->read(bus->range[i].dev, off, data, size);
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	pthread_mutex_unlock(&bus->lock);
	if (!is_write)
		memset(data, 0xff, size);
	log_ratelimited(IGN_LOG_DEBUG, "unclaimed port %s 0x%x", is_write ? "write" : "read", port);
}
