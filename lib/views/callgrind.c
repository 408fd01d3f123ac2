/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/callgrind.h"
#include "lib/base/hash.h"
#include "lib/base/vec.h"

struct edge {
	uint32_t caller, callee;
	int64_t cost, calls;
	size_t last_sample; /* +1 of the last sample counted: once per sample */
};

struct edges {
	struct edge *v;
	size_t n, cap;
	struct hashmap index;
};

struct edge_key {
	const struct edges *e;
	uint32_t caller, callee;
};

static bool edge_eq(const void *ctx, uint32_t idx)
{
	const struct edge_key *k = ctx;

	return k->e->v[idx].caller == k->caller && k->e->v[idx].callee == k->callee;
}

static int edge_add(struct edges *e, uint32_t caller, uint32_t callee, int64_t v, size_t sample)
{
	struct edge_key k = {e, caller, callee};
	uint64_t h = hash_u64(((uint64_t)caller << 32) | callee, 0);
	uint32_t idx;
	int r;

	if (!hashmap_find(&e->index, h, edge_eq, &k, &idx)) {
		r = VEC_PUSH_RESERVE(e->v, e->n, e->cap);
		if (r == 0)
			r = hashmap_insert(&e->index, h, (uint32_t)e->n);
		if (r < 0)
			return r;
		e->v[e->n] = (struct edge){.caller = caller, .callee = callee};
		idx = (uint32_t)e->n++;
	}
	if (e->v[idx].last_sample != sample + 1) {
		e->v[idx].cost = sat_add64(e->v[idx].cost, v);
		e->v[idx].calls++;
		e->v[idx].last_sample = sample + 1;
	}
	return 0;
}

static int by_caller(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->caller != y->caller)
		return x->caller < y->caller ? -1 : 1;
	return x->callee < y->callee ? -1 : (x->callee > y->callee);
}

/* Name compression: "(id) name" the first time a function is named, "(id)" after. */
static void put_fn(FILE *out, const char *tag, const struct stacks *st, uint32_t node, bool *named)
{
	if (named[node]) {
		fprintf(out, "%s=(%u)\n", tag, node + 1);
		return;
	}
	named[node] = true;
	fprintf(out, "%s=(%u) %s\n", tag, node + 1, st->names[node]);
}

int callgrind_write(const struct stacks *st, FILE *out)
{
	struct edges e = {.index = HASHMAP_INIT};
	int64_t *self = calloc(st->nnodes + 1, sizeof(*self));
	bool *named = calloc(st->nnodes + 1, sizeof(*named)), *seen = NULL;
	int r = 0;

	if (!self || !named) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < st->nsamples && r == 0; s++) {
		const struct stacks_sample *smp = &st->samples[s];

		if (smp->n)
			self[st->frames[smp->off].node] =
				sat_add64(self[st->frames[smp->off].node], smp->value);
		for (uint32_t i = 0; i + 1 < smp->n && r == 0; i++)
			r = edge_add(&e, st->frames[smp->off + i + 1].node,
				     st->frames[smp->off + i].node, smp->value, s);
	}
	if (r < 0)
		goto out;
	if (e.n > 1)
		qsort(e.v, e.n, sizeof(*e.v), by_caller);
	seen = calloc(st->nnodes + 1, sizeof(*seen));
	if (!seen) {
		r = -ENOMEM;
		goto out;
	}

	fprintf(out, "# callgrind format\nversion: 1\ncreator: cprof\npositions: line\n");
	fprintf(out, "events: %s_%s\n", st->type, st->unit);
	fprintf(out, "summary: %" PRId64 "\n\nfl=(1) ???\n", st->total);
	/* Functions with callees, in order, each followed by its calls; then the leaves. */
	for (size_t i = 0; i < e.n; i++) {
		if (i == 0 || e.v[i].caller != e.v[i - 1].caller) {
			fputc('\n', out);
			put_fn(out, "fn", st, e.v[i].caller, named);
			fprintf(out, "0 %" PRId64 "\n", self[e.v[i].caller]);
			seen[e.v[i].caller] = true;
		}
		put_fn(out, "cfn", st, e.v[i].callee, named);
		fprintf(out, "calls=%" PRId64 " 0\n0 %" PRId64 "\n", e.v[i].calls, e.v[i].cost);
	}
	for (size_t n = 0; n < st->nnodes; n++) {
		if (seen[n] || !self[n])
			continue;
		fputc('\n', out);
		put_fn(out, "fn", st, (uint32_t)n, named);
		fprintf(out, "0 %" PRId64 "\n", self[n]);
	}
	fprintf(out, "\ntotals: %" PRId64 "\n", st->total);
	r = ferror(out) ? -EIO : 0;
out:
	free(self);
	free(named);
	free(seen);
	free(e.v);
	hashmap_release(&e.index);
	return r;
}
