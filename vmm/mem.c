// SPDX-License-Identifier: Apache-2.0
#include "mem.h"

void guest_mem_layout(struct guest_mem *m, uint64_t size)
{
	m->size = size;
	m->low_size = size < MEM_32BIT_GAP_START ? size : MEM_32BIT_GAP_START;
	m->high_size = size - m->low_size;
}

void *guest_mem_ptr(const struct guest_mem *m, gpa_t gpa, uint64_t len)
{
	/* Written so that no sum can overflow: gpa and len are guest-controlled. */
	if (gpa < m->low_size) {
		if (len > m->low_size - gpa)
			return NULL;
		return m->hva + gpa;
	}
	if (gpa >= MEM_4G && gpa - MEM_4G < m->high_size) {
		if (len > m->high_size - (gpa - MEM_4G))
			return NULL;
		return m->hva + m->low_size + (gpa - MEM_4G);
	}
	return NULL;
}
