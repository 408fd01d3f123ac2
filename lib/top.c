/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/frames.h"
#include "lib/hash.h"
#include "lib/parse.h"
#include "lib/top.h"
#include "lib/units.h"
#include "lib/vec.h"

struct node {
	const char *name; /* borrowed from frames */
	int64_t flat, cum;
	size_t last_sample; /* +1 of the last sample counted in cum: recursion counts once */
};

struct node_table {
	struct node *nodes;
	size_t n, cap;
	struct hashmap index;
};

struct name_key {
	const struct node_table *t;
	const char *name;
};

static bool name_eq(const void *ctx, uint32_t idx)
{
	const struct name_key *k = ctx;

	return strcmp(k->t->nodes[idx].name, k->name) == 0;
}

static int node_get(struct node_table *t, const char *name, struct node **ret)
{
	struct name_key key = {t, name};
	uint64_t h = hash_bytes(name, strlen(name), 0);
	uint32_t idx;
	int r;

	if (!hashmap_find(&t->index, h, name_eq, &key, &idx)) {
		r = VEC_PUSH_RESERVE(t->nodes, t->n, t->cap);
		if (r < 0)
			return r;
		r = hashmap_insert(&t->index, h, (uint32_t)t->n);
		if (r < 0)
			return r;
		t->nodes[t->n] = (struct node){.name = name};
		idx = (uint32_t)t->n++;
	}
	*ret = &t->nodes[idx];
	return 0;
}

int top_sample_index(const struct profile *p, const char *arg)
{
	uint64_t n;
	int i;

	if (p->ntypes == 0)
		return -EINVAL;
	if (!arg) {
		i = p->default_sample_type
			    ? profile_find_type(p, profile_str(p, p->default_sample_type))
			    : -1;
		return i >= 0 ? i : (int)p->ntypes - 1;
	}
	if (parse_uint(arg, 0, p->ntypes - 1, &n) == 0)
		return (int)n;
	i = profile_find_type(p, arg);
	return i >= 0 ? i : -EINVAL;
}

static int by_flat(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	if (x->flat != y->flat)
		return x->flat > y->flat ? -1 : 1;
	if (x->cum != y->cum)
		return x->cum > y->cum ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int accumulate(const struct profile *p, const struct frames *f, int index,
		      struct node_table *t, int64_t *ret_total)
{
	int64_t total = 0;
	int r;

	for (size_t s = 0; s < p->nsamples; s++) {
		const struct profile_sample *smp = &p->samples[s];
		int64_t v = p->values[smp->value_off + (size_t)index];
		bool leaf = true;

		total += v;
		if (v == 0)
			continue;
		for (size_t i = 0; i < smp->nloc; i++) {
			uint32_t loc = p->locs[smp->loc_off + i];

			for (size_t j = 0; j < frames_count(f, loc); j++) {
				struct node *n;

				r = node_get(t, frames_name(f, loc, j), &n);
				if (r < 0)
					return r;
				if (leaf)
					n->flat += v;
				leaf = false;
				if (n->last_sample != s + 1) {
					n->cum += v;
					n->last_sample = s + 1;
				}
			}
		}
	}
	*ret_total = total;
	return 0;
}

int top_write(const struct profile *p, const struct top_options *opts, FILE *out)
{
	struct node_table t = {.index = HASHMAP_INIT};
	const char *unit = profile_str(p, p->types[opts->sample_index].unit);
	char flat[32], cum[32], fp[16], sp[16], cp[16], shown_s[32], total_s[32], cut_s[32];
	int64_t total = 0, shown = 0, sum = 0, cutoff;
	struct frames *f = NULL;
	size_t kept = 0, rows;
	int scale, r;

	r = frames_new(p, &f);
	if (r < 0)
		goto out;
	r = accumulate(p, f, opts->sample_index, &t, &total);
	if (r < 0)
		goto out;

	/* Drop the small fry first (pprof's nodefraction), then sort and cut to nodecount. */
	cutoff = (int64_t)((double)(total < 0 ? -total : total) * opts->nodefraction);
	for (size_t i = 0; i < t.n; i++)
		if (t.nodes[i].cum > cutoff || t.nodes[i].cum < -cutoff)
			t.nodes[kept++] = t.nodes[i];
	qsort(t.nodes, kept, sizeof(*t.nodes), by_flat);
	rows = opts->nodecount && opts->nodecount < kept ? opts->nodecount : kept;
	for (size_t i = 0; i < rows; i++)
		shown += t.nodes[i].flat;

	/* One scale for the whole table, as pprof does. */
	scale = units_scale(total, unit);
	for (size_t i = 0; i < rows; i++) {
		if (t.nodes[i].flat && units_scale(t.nodes[i].flat, unit) < scale)
			scale = units_scale(t.nodes[i].flat, unit);
		if (t.nodes[i].cum && units_scale(t.nodes[i].cum, unit) < scale)
			scale = units_scale(t.nodes[i].cum, unit);
	}
	units_format_at(shown_s, sizeof(shown_s), shown, unit, scale);
	units_format_at(total_s, sizeof(total_s), total, unit, scale);
	units_percent(sp, sizeof(sp), shown, total);
	fprintf(out, "Showing nodes accounting for %s, %s of %s total\n", shown_s,
		sp + strspn(sp, " "), total_s);
	if (kept < t.n) {
		units_format_at(cut_s, sizeof(cut_s), cutoff, unit, scale);
		fprintf(out, "Dropped %zu nodes (cum <= %s)\n", t.n - kept, cut_s);
	}
	if (rows < kept)
		fprintf(out, "Showing top %zu nodes out of %zu\n", rows, kept);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (size_t i = 0; i < rows; i++) {
		const struct node *n = &t.nodes[i];

		sum += n->flat;
		units_format_at(flat, sizeof(flat), n->flat, unit, scale);
		units_format_at(cum, sizeof(cum), n->cum, unit, scale);
		units_percent(fp, sizeof(fp), n->flat, total);
		units_percent(sp, sizeof(sp), sum, total);
		units_percent(cp, sizeof(cp), n->cum, total);
		fprintf(out, "%10s %s %s %10s %s  %s\n", flat, fp, sp, cum, cp, n->name);
	}
	r = ferror(out) ? -EIO : 0;
out:
	frames_free(f);
	free(t.nodes);
	hashmap_release(&t.index);
	return r;
}
