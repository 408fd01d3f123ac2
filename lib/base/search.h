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

/*
 * The k-th smallest of v[0, n) (v reordered, k < n): Hoare's selection,
 * linear on average: a median without sorting (the session's 65,536 kept
 * unwind times took a run of a few seconds more than a millisecond to sort).
 */
static inline uint32_t select_u32(uint32_t *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, want = (ptrdiff_t)k;

	while (lo < hi) {
		uint32_t pivot = v[lo + (hi - lo) / 2], t;
		ptrdiff_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		/* Now v[lo, j] <= pivot <= v[i, hi], and whatever lies between is the pivot. */
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			break;
	}
	return v[want];
}

#endif
