/* SPDX-License-Identifier: MIT */
/*
 * The top table, computed the way pprof's report package computes it so
 * that `cprof report` and `go tool pprof -top` print the same rows:
 *
 *  - one node per function name; a sample adds its value to the cum of
 *    every node on its stack once, and to the flat of its leaf node;
 *  - nodes whose |cum| is below nodefraction of the flat total are dropped,
 *    and the rest recomputed without them: a sample whose leaf was dropped
 *    then adds to no flat at all (pprof's "residual" rule);
 *  - rows sorted by |flat|, then name, then |cum|; --nodecount keeps the
 *    first N and recomputes once more;
 *  - a function reached only through inlined calls is marked "(inline)",
 *    one reached both ways "(partial-inline)";
 *  - one unit for the table: that of the smallest nonzero row, scaled up
 *    when it is under a hundredth of the total (pprof's "minimum" unit).
 */
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
	bool kept;
	/* Called as an inlined frame / as a real call: pprof's "(inline)" labels. */
	bool inline_in, call_in;
};

struct graph {
	const struct profile *p;
	int index;
	struct frames *frames;
	struct node *nodes;
	size_t n, cap;
	struct hashmap by_name;
	uint32_t *frame_node; /* per line and per line-less location: its node */
	size_t *loc_first; /* per location: its first entry in frame_node */
};

struct name_key {
	const struct graph *g;
	const char *name;
};

static bool name_eq(const void *ctx, uint32_t idx)
{
	const struct name_key *k = ctx;

	return strcmp(k->g->nodes[idx].name, k->name) == 0;
}

static int node_of(struct graph *g, const char *name, uint32_t *ret)
{
	struct name_key key = {g, name};
	uint64_t h = hash_bytes(name, strlen(name), 0);
	int r;

	if (hashmap_find(&g->by_name, h, name_eq, &key, ret))
		return 0;
	r = VEC_PUSH_RESERVE(g->nodes, g->n, g->cap);
	if (r < 0)
		return r;
	r = hashmap_insert(&g->by_name, h, (uint32_t)g->n);
	if (r < 0)
		return r;
	g->nodes[g->n] = (struct node){.name = name, .kept = true};
	*ret = (uint32_t)g->n++;
	return 0;
}

/* Give every frame of every location its node, once. */
static int graph_init(struct graph *g, const struct profile *p, int index)
{
	size_t nframes = 0;
	int r;

	g->p = p;
	g->index = index;
	r = frames_new(p, &g->frames);
	if (r < 0)
		return r;
	g->loc_first = calloc(p->nlocations + 1, sizeof(*g->loc_first));
	if (!g->loc_first)
		return -ENOMEM;
	for (uint32_t loc = 1; loc <= p->nlocations; loc++) {
		g->loc_first[loc - 1] = nframes;
		nframes += frames_count(g->frames, loc);
	}
	g->frame_node = calloc(nframes + 1, sizeof(*g->frame_node));
	if (!g->frame_node)
		return -ENOMEM;
	for (uint32_t loc = 1; loc <= p->nlocations; loc++)
		for (size_t j = 0; j < frames_count(g->frames, loc); j++) {
			r = node_of(g, frames_name(g->frames, loc, j),
				    &g->frame_node[g->loc_first[loc - 1] + j]);
			if (r < 0)
				return r;
		}
	return 0;
}

static void graph_release(struct graph *g)
{
	frames_free(g->frames);
	free(g->nodes);
	free(g->frame_node);
	free(g->loc_first);
	hashmap_release(&g->by_name);
}

/*
 * Recompute flat, cum and the inline marks over the kept nodes only. Stacks
 * are walked root to leaf as pprof walks them: a node's caller is the
 * nearest kept frame outside it, and the call was inlined when the node's
 * frame is not the outermost line of its location.
 */
static void graph_fill(struct graph *g)
{
	const struct profile *p = g->p;

	for (size_t i = 0; i < g->n; i++) {
		g->nodes[i].flat = g->nodes[i].cum = 0;
		g->nodes[i].last_sample = 0;
		g->nodes[i].inline_in = g->nodes[i].call_in = false;
	}
	for (size_t s = 0; s < p->nsamples; s++) {
		const struct profile_sample *smp = &p->samples[s];
		int64_t v = p->values[smp->value_off + (size_t)g->index];
		struct node *parent = NULL;
		bool leaf_kept = false;

		if (v == 0)
			continue;
		for (size_t i = smp->nloc; i-- > 0;) {
			uint32_t loc = p->locs[smp->loc_off + i];
			size_t base = g->loc_first[loc - 1], count = frames_count(g->frames, loc);

			for (size_t j = count; j-- > 0;) {
				struct node *n = &g->nodes[g->frame_node[base + j]];

				leaf_kept = n->kept;
				if (!n->kept)
					continue;
				if (n->last_sample != s + 1) {
					n->cum += v;
					n->last_sample = s + 1;
				}
				if (parent && parent != n) {
					if (j != count - 1)
						n->inline_in = true;
					else
						n->call_in = true;
				}
				parent = n;
			}
		}
		/* The leaf itself must be kept: a dropped leaf's flat goes nowhere. */
		if (parent && leaf_kept)
			parent->flat += v;
	}
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* pprof's FlatNameOrder: |flat| descending, then name, then |cum| descending. */
static int by_flat(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	int c;

	if (abs64(x->flat) != abs64(y->flat))
		return abs64(x->flat) > abs64(y->flat) ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (abs64(x->cum) != abs64(y->cum))
		return abs64(x->cum) > abs64(y->cum) ? -1 : 1;
	return 0;
}

/* The kept nodes with any value, sorted into rows. */
static size_t graph_rows(struct graph *g, struct node **rows)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n; i++)
		if (g->nodes[i].kept && (g->nodes[i].flat || g->nodes[i].cum))
			rows[n++] = &g->nodes[i];
	qsort(rows, n, sizeof(*rows), by_flat);
	return n;
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

/* pprof's selectOutputUnit. */
static int table_scale(struct node **rows, size_t n, int64_t total, const char *unit)
{
	int64_t min = 0;
	int min_scale, max_scale;

	for (size_t i = 0; i < n; i++) {
		int64_t v = rows[i]->flat ? abs64(rows[i]->flat) : abs64(rows[i]->cum);

		if (v > 0 && (min == 0 || v < min))
			min = v;
	}
	if (min == 0)
		min = total;
	min_scale = units_scale(min, unit);
	max_scale = units_scale(total, unit);
	if (min_scale != max_scale && min * 100 < total)
		return units_scale(min * 100, unit);
	return min_scale;
}

int top_write(const struct profile *p, const struct top_options *opts, FILE *out)
{
	const char *unit = profile_str(p, p->types[opts->sample_index].unit);
	char flat[32], cum[32], fp[16], sp[16], cp[16], shown_s[32], total_s[32], cut_s[32];
	int64_t total = 0, flat_total = 0, cutoff, shown = 0, sum = 0;
	struct graph g = {.by_name = HASHMAP_INIT};
	struct node **rows = NULL;
	size_t nrows, dropped = 0, orig;
	int scale, r;

	r = graph_init(&g, p, opts->sample_index);
	if (r < 0)
		goto out;
	rows = calloc(g.n + 1, sizeof(*rows));
	if (!rows) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < p->nsamples; s++)
		total += abs64(p->values[p->samples[s].value_off + (size_t)opts->sample_index]);

	graph_fill(&g);
	for (size_t i = 0; i < g.n; i++)
		flat_total += g.nodes[i].flat;
	cutoff = abs64((int64_t)((double)flat_total * opts->nodefraction));
	if (cutoff > 0) {
		for (size_t i = 0; i < g.n; i++) {
			g.nodes[i].kept = abs64(g.nodes[i].cum) >= cutoff;
			dropped += !g.nodes[i].kept && (g.nodes[i].cum || g.nodes[i].flat);
		}
		if (dropped)
			graph_fill(&g);
	}
	nrows = orig = graph_rows(&g, rows);
	if (opts->nodecount && nrows > opts->nodecount) {
		for (size_t i = opts->nodecount; i < nrows; i++)
			rows[i]->kept = false;
		graph_fill(&g);
		nrows = graph_rows(&g, rows);
	}
	for (size_t i = 0; i < nrows; i++)
		shown += rows[i]->flat;

	scale = table_scale(rows, nrows, total, unit);
	units_format_at(shown_s, sizeof(shown_s), shown, unit, scale);
	units_format_at(total_s, sizeof(total_s), total, unit, scale);
	units_percent(sp, sizeof(sp), shown, total);
	fprintf(out, "Showing nodes accounting for %s, %s of %s total\n", shown_s,
		sp + strspn(sp, " "), total_s);
	if (total && dropped) {
		units_format_at(cut_s, sizeof(cut_s), abs64((int64_t)((double)total * opts->nodefraction)),
				unit, scale);
		fprintf(out, "Dropped %zu node%s (cum <= %s)\n", dropped, dropped > 1 ? "s" : "", cut_s);
	}
	if (total && nrows && nrows < orig)
		fprintf(out, "Showing top %zu nodes out of %zu\n", nrows, orig);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (size_t i = 0; i < nrows; i++) {
		const struct node *n = rows[i];

		sum += n->flat;
		units_format_at(flat, sizeof(flat), n->flat, unit, scale);
		units_format_at(cum, sizeof(cum), n->cum, unit, scale);
		units_percent(fp, sizeof(fp), n->flat, total);
		units_percent(sp, sizeof(sp), sum, total);
		units_percent(cp, sizeof(cp), n->cum, total);
		fprintf(out, "%10s %s %s %10s %s  %s%s\n", flat, fp, sp, cum, cp, n->name,
			!n->inline_in ? "" : n->call_in ? " (partial-inline)" : " (inline)");
	}
	r = ferror(out) ? -EIO : 0;
out:
	free(rows);
	graph_release(&g);
	return r;
}
