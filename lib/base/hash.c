/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"

void hashmap_release(struct hashmap *map)
{
	if (!map)
		return;
	free(map->slots);
	*map = (struct hashmap)HASHMAP_INIT;
}

bool hashmap_find(const struct hashmap *map, uint64_t hash, hashmap_eq_fn eq, const void *ctx,
		  uint32_t *ret_idx)
{
	size_t mask, i;

	if (map->cap == 0)
		return false;
	mask = map->cap - 1;
	for (i = hash & mask;; i = (i + 1) & mask) {
		const struct hashmap_slot *s = &map->slots[i];

		if (s->idx_plus1 == 0)
			return false;
		if (s->hash == hash && eq(ctx, s->idx_plus1 - 1)) {
			*ret_idx = s->idx_plus1 - 1;
			return true;
		}
	}
}

static void put(struct hashmap_slot *slots, size_t cap, uint64_t hash, uint32_t idx_plus1)
{
	size_t i;

	for (i = hash & (cap - 1); slots[i].idx_plus1; i = (i + 1) & (cap - 1))
		;
	slots[i].hash = hash;
	slots[i].idx_plus1 = idx_plus1;
}

int hashmap_insert(struct hashmap *map, uint64_t hash, uint32_t idx)
{
	/* Keep the load under 1/2 so probe runs stay short. */
	if ((map->len + 1) * 2 > map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 16;
		struct hashmap_slot *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < map->cap; i++)
			if (map->slots[i].idx_plus1)
				put(slots, cap, map->slots[i].hash, map->slots[i].idx_plus1);
		free(map->slots);
		map->slots = slots;
		map->cap = cap;
	}
	put(map->slots, map->cap, hash, idx + 1);
	map->len++;
	return 0;
}

bool hashmap_remove(struct hashmap *map, uint64_t hash, uint32_t idx)
{
	size_t mask, i, j;

	if (map->cap == 0)
		return false;
	mask = map->cap - 1;
	for (i = hash & mask;; i = (i + 1) & mask) {
		if (map->slots[i].idx_plus1 == 0)
			return false;
		if (map->slots[i].hash == hash && map->slots[i].idx_plus1 == idx + 1)
			break;
	}
	/*
	 * Backward-shift deletion: pull later members of the probe run into the
	 * hole whenever their home slot does not lie cyclically in (hole, j].
	 */
	map->slots[i].idx_plus1 = 0;
	for (j = (i + 1) & mask; map->slots[j].idx_plus1; j = (j + 1) & mask) {
		size_t home = map->slots[j].hash & mask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);

		if (stays)
			continue;
		map->slots[i] = map->slots[j];
		map->slots[j].idx_plus1 = 0;
		i = j;
	}
	map->len--;
	return true;
}

uint64_t hash_u64(uint64_t v, uint64_t seed)
{
	/* splitmix64's finalizer over the combination: cheap and well mixed. */
	uint64_t x = seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ n;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = hash_u64(w, h);
	}
	if (n) {
		uint64_t w = 0;

		memcpy(&w, p, n);
		h = hash_u64(w, h);
	}
	return h;
}

int hashmap_find_or_add(struct hashmap *map, uint64_t hash, hashmap_eq_fn eq, const void *ctx,
			uint32_t next, uint32_t *ret_idx)
{
	int r;

	if (hashmap_find(map, hash, eq, ctx, ret_idx))
		return 1;
	r = hashmap_insert(map, hash, next);
	if (r < 0)
		return r;
	*ret_idx = next;
	return 0;
}
