/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/perf/merge.h"
#include "lib/base/vec.h"

struct entry {
	uint64_t time;
	uint64_t seq; /* arrival order breaks ties, keeping each ring's own order */
	const struct perf_event_header *rec;
	void *owner; /* NULL: rec is the merge's own copy */
};

struct merge {
	struct entry *q;
	size_t n, cap;
	uint64_t seq;
	uint64_t max_this_round, max_last_round;
	merge_release_fn release;
	void *release_ctx;
};

struct merge *merge_new(merge_release_fn release, void *ctx)
{
	struct merge *m = calloc(1, sizeof(struct merge));

	if (m) {
		m->release = release;
		m->release_ctx = ctx;
	}
	return m;
}

/* Done with e's record: its copy freed, or its owner told. */
static void let_go(struct merge *m, const struct entry *e)
{
	if (e->owner)
		m->release(m->release_ctx, e->owner);
	else
		free((void *)e->rec);
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		let_go(m, &m->q[i]);
	free(m->q);
	free(m);
}

static int enqueue(struct merge *m, const struct perf_event_header *rec, uint64_t time, void *owner)
{
	if (VEC_PUSH_RESERVE(m->q, m->n, m->cap) < 0)
		return -ENOMEM;
	m->q[m->n++] = (struct entry){time, m->seq++, rec, owner};
	if (time > m->max_this_round)
		m->max_this_round = time;
	return 0;
}

int merge_push_ref(struct merge *m, const struct perf_event_header *rec, uint64_t time, void *owner)
{
	return enqueue(m, rec, time, owner);
}

void *merge_alloc(struct merge *m, size_t size, uint64_t time)
{
	struct perf_event_header *copy = malloc(size);

	if (copy && enqueue(m, copy, time, NULL) < 0) {
		free(copy);
		copy = NULL;
	}
	return copy;
}

int merge_push(struct merge *m, const struct perf_event_header *rec, uint64_t time)
{
	void *copy = merge_alloc(m, rec->size, time);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, rec, rec->size);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Deliver, in order, every queued record with time <= limit. */
static int deliver(struct merge *m, uint64_t limit, merge_fn fn, void *ctx)
{
	size_t i;
	int r = 0;

	if (m->n > 1)
		qsort(m->q, m->n, sizeof(*m->q), entry_cmp);
	for (i = 0; i < m->n && m->q[i].time <= limit; i++) {
		r = fn(ctx, m->q[i].rec);
		let_go(m, &m->q[i]);
		if (r < 0) {
			i++;
			break;
		}
	}
	/* An empty queue may have no array at all: memmove(NULL, …, 0) is still undefined. */
	if (i && m->n > i)
		memmove(m->q, &m->q[i], (m->n - i) * sizeof(*m->q));
	m->n -= i;
	return r < 0 ? r : 0;
}

int merge_round(struct merge *m, merge_fn fn, void *ctx)
{
	uint64_t limit = m->max_last_round;

	m->max_last_round = m->max_this_round;
	return deliver(m, limit, fn, ctx);
}

int merge_flush(struct merge *m, merge_fn fn, void *ctx)
{
	return deliver(m, UINT64_MAX, fn, ctx);
}

size_t merge_pending(const struct merge *m)
{
	return m->n;
}
