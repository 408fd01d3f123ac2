/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/perf/merge.h"
#include "lib/base/vec.h"

struct entry {
	uint64_t time;
	uint64_t seq; /* arrival order breaks ties, keeping each ring's own order */
	struct perf_event_header *rec;
};

struct merge {
	struct entry *q;
	size_t n, cap;
	uint64_t seq;
	uint64_t max_this_round, max_last_round;
};

struct merge *merge_new(void)
{
	return calloc(1, sizeof(struct merge));
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->q[i].rec);
	free(m->q);
	free(m);
}

void *merge_alloc(struct merge *m, size_t size, uint64_t time)
{
	struct perf_event_header *copy;

	if (VEC_PUSH_RESERVE(m->q, m->n, m->cap) < 0)
		return NULL;
	copy = malloc(size);
	if (!copy)
		return NULL;
	m->q[m->n++] = (struct entry){time, m->seq++, copy};
	if (time > m->max_this_round)
		m->max_this_round = time;
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
		free(m->q[i].rec);
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
