/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_STRSET_H
#define CPROF_LIB_BASE_STRSET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/base/hash.h"

/*
 * Strings kept once each, numbered in the order first met. A string stays
 * where it was put until strset_release: callers may hold its address.
 *
 *	struct strset set = {0};
 *	strset_intern(&set, "main", &id);	set.strs[id] is the copy
 *	strset_release(&set);
 */
struct strset {
	char **strs;
	size_t n, cap;
	struct hashmap index;
};

/* The number of s in set, added if new: 0 and *ret, or -ENOMEM. */
int strset_intern(struct strset *set, const char *s, uint32_t *ret);

/* Free every string and the set's own memory; the set is empty after. */
void strset_release(struct strset *set);

#endif
