/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_HASH_H
#define CPROF_LIB_BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An index over objects that live in the caller's own array. The map stores
 * only (hash, index) pairs; the caller decides equality through a callback,
 * so one map type serves strings, stacks, mappings, locations and tasks.
 * Open addressing with linear probing; removal shifts back, no tombstones.
 */
struct hashmap_slot {
	uint64_t hash;
	uint32_t idx_plus1; /* 0 marks an empty slot */
};

struct hashmap {
	struct hashmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t len;
};

#define HASHMAP_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* Does the object at idx equal the one being looked up (described by ctx)? */
typedef bool (*hashmap_eq_fn)(const void *ctx, uint32_t idx);

/* Free the slots; the map is empty and reusable afterwards. NULL-safe. */
void hashmap_release(struct hashmap *map);

/*
 * Find an object with this hash for which eq(ctx, idx) holds.
 * Returns true and sets *ret_idx, or false.
 */
bool hashmap_find(const struct hashmap *map, uint64_t hash, hashmap_eq_fn eq, const void *ctx,
		  uint32_t *ret_idx);

/*
 * The find-else-insert every interning table does: find the object as
 * hashmap_find does (returns 1, *ret_idx its index), or else add next, the
 * index the caller's array will give it (returns 0, *ret_idx = next: the
 * caller now fills that slot), or -ENOMEM. Reserve the array's room first,
 * so that a failure leaves no index pointing past it.
 */
int hashmap_find_or_add(struct hashmap *map, uint64_t hash, hashmap_eq_fn eq, const void *ctx,
			uint32_t next, uint32_t *ret_idx);

/* Add idx under hash; the caller has checked it is absent. Returns 0 or -ENOMEM. */
int hashmap_insert(struct hashmap *map, uint64_t hash, uint32_t idx);

/* Remove the entry (hash, idx) if present. Returns true when it was. */
bool hashmap_remove(struct hashmap *map, uint64_t hash, uint32_t idx);

/* A fast 64-bit hash of n bytes, chained through seed. */
uint64_t hash_bytes(const void *data, size_t n, uint64_t seed);

/* Mix one 64-bit value into seed. */
uint64_t hash_u64(uint64_t v, uint64_t seed);

#endif
