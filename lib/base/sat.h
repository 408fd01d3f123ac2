/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_SAT_H
#define CPROF_LIB_BASE_SAT_H

#include <stdint.h>

/*
 * Saturating arithmetic for sums of sample values. Values come from
 * profiles anyone can write; a sum that overflows int64 would be undefined
 * behaviour, and in practice a negative total. Pinned at the ends instead:
 * a profile that reaches them is nonsense either way, but it stays
 * printable and cannot crash or mislead a view into negative shares.
 */

static inline int64_t sat_add64(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t sat_mul64(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}

/* -v, with -INT64_MIN pinned to INT64_MAX. */
static inline int64_t sat_neg64(int64_t v)
{
	return v == INT64_MIN ? INT64_MAX : -v;
}

/* |v|, with |INT64_MIN| pinned to INT64_MAX. */
static inline int64_t sat_abs64(int64_t v)
{
	return v < 0 ? sat_neg64(v) : v;
}

#endif
