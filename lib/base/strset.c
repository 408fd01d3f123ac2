/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/strset.h"
#include "lib/base/vec.h"

struct key {
	const struct strset *set;
	const char *s;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
	const struct key *k = ctx;

	return strcmp(k->set->strs[idx], k->s) == 0;
}

int strset_intern(struct strset *set, const char *s, uint32_t *ret)
{
	struct key k = {set, s};
	uint64_t h = hash_bytes(s, strlen(s), 0);
	char *copy;
	int r;

	if (VEC_PUSH_RESERVE(set->strs, set->n, set->cap) < 0)
		return -ENOMEM;
	r = hashmap_find_or_add(&set->index, h, key_eq, &k, (uint32_t)set->n, ret);
	if (r != 0)
		return r < 0 ? r : 0;
	copy = strdup(s);
	if (!copy) {
		(void)hashmap_remove(&set->index, h, *ret);
		return -ENOMEM;
	}
	set->strs[set->n++] = copy;
	return 0;
}

void strset_release(struct strset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->strs[i]);
	free(set->strs);
	hashmap_release(&set->index);
	*set = (struct strset){0};
}
