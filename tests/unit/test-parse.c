/* SPDX-License-Identifier: MIT */
/*
 * Number, duration and CPU-list parsing; the hash map's insert, find and
 * removal; selection of the k-th smallest (search.h) against sorting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"
#include "lib/base/parse.h"
#include "lib/base/search.h"
#include "tests/tap.h"

static const uint32_t keys[] = {5, 21, 37, 53, 69, 85, 101, 3};

static bool key_eq(const void *ctx, uint32_t idx)
{
	return keys[idx] == *(const uint32_t *)ctx;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every k of arrays of every length up to 40 (few distinct values, many
 * repeats, sorted both ways) and of a long random one: select_u32 gives
 * what sorting puts at k.
 */
static void check_select(void)
{
	uint32_t v[1000], sorted[1000], work[1000];
	unsigned seed = 12345, wrong = 0, checked = 0;

	for (size_t n = 1; n <= 1000; n = n < 40 ? n + 1 : 1000) {
		for (int shape = 0; shape < 4; shape++) {
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				v[i] = shape == 0   ? seed >> 16
				       : shape == 1 ? (seed >> 16) % 3
				       : shape == 2 ? (uint32_t)i
						    : (uint32_t)(n - i);
			}
			memcpy(sorted, v, n * sizeof(*v));
			qsort(sorted, n, sizeof(*sorted), u32_cmp);
			for (size_t k = 0; k < n; k++, checked++) {
				memcpy(work, v, n * sizeof(*v));
				wrong += select_u32(work, n, k) != sorted[k];
			}
		}
		if (n == 1000)
			break;
	}
	ok(wrong == 0, "select_u32 agrees with sorting at %u positions (%u wrong)", checked, wrong);
}

int main(void)
{
	static const struct {
		const char *in;
		int r;
		uint64_t v;
	} uints[] = {
		{"999", 0, 999},
		{"1", 0, 1},
		{"0", -ERANGE, 0},
		{"100001", -ERANGE, 0},
		{"12abc", -EINVAL, 0},
		{"", -EINVAL, 0},
		{" 5", -EINVAL, 0},
		{"-5", -EINVAL, 0},
		{"99999999999999999999999", -ERANGE, 0},
	};
	static const struct {
		const char *in;
		int r;
		uint64_t ns;
	} secs[] = {
		{"10", 0, 10000000000ULL}, {"0.5", 0, 500000000ULL}, {"1.25", 0, 1250000000ULL},
		{".1", 0, 100000000ULL},   {"0", -ERANGE, 0},	     {"1.", -EINVAL, 0},
		{"1s", -EINVAL, 0},	   {"", -EINVAL, 0},	     {"99999999999", -ERANGE, 0},
	};
	struct hashmap map = HASHMAP_INIT;
	bool cpus[8];
	uint64_t v;
	uint32_t idx, k;

	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		v = 0;
		ok(parse_uint(uints[i].in, 1, 100000, &v) == uints[i].r &&
			   (uints[i].r || v == uints[i].v),
		   "parse_uint('%s')", uints[i].in);
	}
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		v = 0;
		ok(parse_seconds(secs[i].in, &v) == secs[i].r && (secs[i].r || v == secs[i].ns),
		   "parse_seconds('%s')", secs[i].in);
	}
	ok(parse_cpu_list("0-2,5", cpus, 8) == 0 && cpus[0] && cpus[1] && cpus[2] && !cpus[3] &&
		   cpus[5] && !cpus[7],
	   "cpu list with a range");
	ok(parse_cpu_list("8", cpus, 8) == -ERANGE, "cpu past the end");
	ok(parse_cpu_list("3-1", cpus, 8) == -EINVAL, "backwards range");
	ok(parse_cpu_list("1,,2", cpus, 8) == -EINVAL, "empty element");

	/* Keys that all collide in a small table (same low bits) exercise probing and removal. */
	for (uint32_t i = 0; i < 8; i++)
		(void)hashmap_insert(&map, (uint64_t)keys[i] << 32 | 1, i);
	for (uint32_t i = 0; i < 8; i++) {
		k = keys[i];
		ok(hashmap_find(&map, (uint64_t)k << 32 | 1, key_eq, &k, &idx) && idx == i,
		   "find key %u", k);
	}
	ok(hashmap_remove(&map, (uint64_t)keys[2] << 32 | 1, 2),
	   "remove one from the middle of a run");
	k = keys[2];
	ok(!hashmap_find(&map, (uint64_t)k << 32 | 1, key_eq, &k, &idx), "it is gone");
	for (uint32_t i = 0; i < 8; i++) {
		if (i == 2)
			continue;
		k = keys[i];
		ok(hashmap_find(&map, (uint64_t)k << 32 | 1, key_eq, &k, &idx) && idx == i,
		   "key %u still found after the removal", k);
	}
	hashmap_release(&map);

	/* Find or add: the interning tables' one step. */
	k = keys[4];
	ok(hashmap_find_or_add(&map, (uint64_t)k << 32 | 1, key_eq, &k, 4, &idx) == 0 && idx == 4,
	   "find_or_add of an absent key adds it under the index given");
	idx = 99;
	ok(hashmap_find_or_add(&map, (uint64_t)k << 32 | 1, key_eq, &k, 7, &idx) == 1 && idx == 4,
	   "and finds it the next time, the index given then unused");
	k = keys[6];
	ok(hashmap_find_or_add(&map, (uint64_t)k << 32 | 1, key_eq, &k, 6, &idx) == 0 && idx == 6 &&
		   hashmap_find(&map, (uint64_t)keys[4] << 32 | 1, key_eq, &keys[4], &idx) &&
		   idx == 4,
	   "a colliding key is added beside it");
	hashmap_release(&map);
	check_select();
	return tap_done();
}
