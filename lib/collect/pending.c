/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "lib/base/vec.h"
#include "lib/collect/pending.h"

struct tid_key {
	const struct pending_table *t;
	int32_t tid;
};

static bool tid_eq(const void *ctx, uint32_t idx)
{
	const struct tid_key *k = ctx;

	return k->t->items[idx].tid == k->tid;
}

static uint64_t tid_hash(int32_t tid)
{
	return hash_u64((uint64_t)(uint32_t)tid, 0);
}

struct pending *pending_find(struct pending_table *t, int32_t tid)
{
	struct tid_key k = {t, tid};
	uint32_t idx;

	return hashmap_find(&t->index, tid_hash(tid), tid_eq, &k, &idx) ? &t->items[idx] : NULL;
}

int pending_open(struct pending_table *t, int32_t tid, uint64_t start, int64_t note,
		 struct kind_stack *stack, bool *ret_replaced)
{
	struct pending *old = pending_find(t, tid);
	int r;

	*ret_replaced = old != NULL;
	if (old) {
		kind_stack_free(old->stack);
		*old = (struct pending){tid, start, note, stack};
		return 0;
	}
	r = VEC_PUSH_RESERVE(t->items, t->n, t->cap);
	if (r == 0)
		r = hashmap_insert(&t->index, tid_hash(tid), (uint32_t)t->n);
	if (r < 0) {
		kind_stack_free(stack);
		return r;
	}
	t->items[t->n++] = (struct pending){tid, start, note, stack};
	return 0;
}

void pending_close(struct pending_table *t, struct pending *item)
{
	size_t i = (size_t)(item - t->items), last = t->n - 1;

	kind_stack_free(item->stack);
	(void)hashmap_remove(&t->index, tid_hash(item->tid), (uint32_t)i);
	if (i != last) {
		/* The last item moves into the hole, and its index entry with it. */
		(void)hashmap_remove(&t->index, tid_hash(t->items[last].tid), (uint32_t)last);
		t->items[i] = t->items[last];
		(void)hashmap_insert(&t->index, tid_hash(t->items[i].tid), (uint32_t)i);
	}
	t->n--;
}

size_t pending_clear(struct pending_table *t)
{
	size_t n = t->n;

	for (size_t i = 0; i < t->n; i++)
		kind_stack_free(t->items[i].stack);
	t->n = 0;
	hashmap_release(&t->index);
	return n;
}

void pending_release(struct pending_table *t)
{
	(void)pending_clear(t);
	free(t->items);
	*t = (struct pending_table){0};
}

int pending_begin(struct pending_table *t, struct kind_out *out, const struct perf_record *smp,
		  int64_t note)
{
	struct kind_stack *st;
	bool replaced;
	int r = kind_out_hold(out, smp, &st);

	if (r == 0)
		r = pending_open(t, smp->tid, smp->time, note, st, &replaced);
	if (r == 0 && replaced)
		kind_out_unpaired(out);
	return r;
}

int pending_end(struct pending_table *t, struct kind_out *out, struct pending *item, uint64_t end)
{
	int r = t->add(out, item, end, true, false);

	pending_close(t, item);
	return r;
}

void pending_record(struct pending_table *t, struct kind_out *out, const struct perf_record *rec)
{
	struct pending *item;

	switch (rec->type) {
	case PERF_RECORD_EXIT:
		item = pending_find(t, rec->tid);
		if (item)
			pending_close(t, item);
		break;
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		for (size_t dropped = pending_clear(t); dropped; dropped--)
			kind_out_unpaired(out);
		break;
	default:
		break;
	}
}

int pending_flush(struct pending_table *t, struct kind_out *out, uint64_t now, bool final)
{
	int r = 0;

	for (size_t i = 0; i < t->n && r == 0; i++) {
		r = t->add(out, &t->items[i], now, final, final);
		t->items[i].start = now;
	}
	if (final)
		(void)pending_clear(t);
	return r;
}
