// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>

#include "mem.h"

Test(mem, small_guest_bounds)
{
	struct guest_mem m;

	guest_mem_layout(&m, 64 << 20);
	m.hva = (uint8_t *)0x10000000;
	cr_assert_eq(m.high_size, 0);
	cr_assert_eq(guest_mem_ptr(&m, 0, 64 << 20), m.hva);
	cr_assert_eq(guest_mem_ptr(&m, 4096, 16), m.hva + 4096);
	cr_assert_null(guest_mem_ptr(&m, (64 << 20) - 8, 9));
	cr_assert_null(guest_mem_ptr(&m, 64 << 20, 1));
	cr_assert_not_null(guest_mem_ptr(&m, (64 << 20) - 8, 8));
}

Test(mem, guest_controlled_values_do_not_wrap)
{
	struct guest_mem m;

	guest_mem_layout(&m, 64 << 20);
	m.hva = (uint8_t *)0x10000000;
	cr_assert_null(guest_mem_ptr(&m, 16, UINT64_MAX));
	cr_assert_null(guest_mem_ptr(&m, UINT64_MAX, 2));
	cr_assert_null(guest_mem_ptr(&m, UINT64_MAX - 4096, 8192));
}

Test(mem, large_guest_has_a_hole_below_4g)
{
	struct guest_mem m;

	guest_mem_layout(&m, 5ULL << 30);
	m.hva = (uint8_t *)0x100000000ULL;
	cr_assert_eq(m.low_size, 3ULL << 30);
	cr_assert_eq(m.high_size, 2ULL << 30);
	cr_assert_null(guest_mem_ptr(&m, 0xfec00000, 4));                 /* IOAPIC */
	cr_assert_null(guest_mem_ptr(&m, (3ULL << 30) - 4, 8));           /* crosses the hole */
	cr_assert_eq(guest_mem_ptr(&m, 4ULL << 30, 8), m.hva + (3ULL << 30));
	cr_assert_null(guest_mem_ptr(&m, 6ULL << 30, 1));
	cr_assert_not_null(guest_mem_ptr(&m, (6ULL << 30) - 1, 1));
}
