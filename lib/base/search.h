/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_SEARCH_H
#define CPROF_LIB_BASE_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Binary search over an array of structs sorted by one uint64_t field (an
 * address, a range's start or end): the number of elements whose field is
 * at most key, which is the index of the first one above it. Every address
 * lookup in cprof (maps, modules, symbols, DWARF ranges, JIT maps) is this
 * search followed by its own check of the neighbour it lands on.
 *
 *	i = UPPER_BOUND(p->maps, p->nmaps, struct proc_map, end, addr);
 */
static inline size_t upper_bound_u64(const void *base, size_t n, size_t size, size_t off,
				     uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * size + off, sizeof(v));
		if (v <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#define UPPER_BOUND(arr, n, type, field, key) \
	upper_bound_u64((arr), (n), sizeof(type), offsetof(type, field), (key))

#endif
