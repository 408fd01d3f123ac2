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

#include "lib/base/sat.h"
#include "lib/views/graph.h"
#include "lib/views/text.h"
#include "lib/views/top.h"
#include "lib/base/units.h"

struct rows {
	const struct stacks *st;
	struct graph g; /* over the nodes kept */
	bool *keep;
	uint32_t *v; /* the rows: kept nodes with any value, in order */
	size_t n;
};

/* pprof's FlatNameOrder: |flat| descending, then name, then |cum| descending. */
static int by_flat(const void *a, const void *b, void *ctx)
{
	const struct rows *t = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct graph_node *x = &t->g.nodes[i], *y = &t->g.nodes[j];
	int c;

	if (sat_abs64(x->flat) != sat_abs64(y->flat))
		return sat_abs64(x->flat) > sat_abs64(y->flat) ? -1 : 1;
	c = strcmp(t->st->names[i], t->st->names[j]);
	if (c)
		return c;
	if (sat_abs64(x->cum) != sat_abs64(y->cum))
		return sat_abs64(x->cum) > sat_abs64(y->cum) ? -1 : 1;
	return 0;
}

/* The graph over the kept nodes, and its nodes with any value sorted into rows. */
static int fill(struct rows *t)
{
	int r = graph_build(&t->g, t->st, &(struct graph_options){.keep = t->keep});

	if (r < 0)
		return r;
	t->n = 0;
	for (uint32_t i = 0; i < t->st->nnodes; i++)
		if (t->keep[i] && (t->g.nodes[i].flat || t->g.nodes[i].cum))
			t->v[t->n++] = i;
	qsort_r(t->v, t->n, sizeof(*t->v), by_flat, t);
	return 0;
}

/* pprof's selectOutputUnit. */
static int table_scale(const struct rows *t, int64_t total, const char *unit)
{
	int64_t min = 0;
	int min_scale, max_scale;

	for (size_t i = 0; i < t->n; i++) {
		const struct graph_node *row = &t->g.nodes[t->v[i]];
		int64_t v = row->flat ? sat_abs64(row->flat) : sat_abs64(row->cum);

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

int top_write(const struct stacks *st, const struct top_options *opts, FILE *out)
{
	const char *unit = st->unit;
	char flat[32], cum[32], fp[16], sp[16], cp[16], shown_s[32], total_s[32], cut_s[32];
	int64_t total = st->total, flat_total = 0, cutoff, shown = 0, sum = 0;
	struct rows t = {.st = st};
	size_t dropped = 0, orig;
	int scale, r;

	t.keep = calloc(st->nnodes + 1, sizeof(*t.keep));
	t.v = calloc(st->nnodes + 1, sizeof(*t.v));
	if (!t.keep || !t.v) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < st->nnodes; i++)
		t.keep[i] = true;
	r = fill(&t);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < st->nnodes; i++)
		flat_total = sat_add64(flat_total, t.g.nodes[i].flat);
	cutoff = sat_abs64((int64_t)((double)flat_total * opts->nodefraction));
	if (cutoff > 0) {
		for (size_t i = 0; i < st->nnodes; i++) {
			const struct graph_node *n = &t.g.nodes[i];

			t.keep[i] = sat_abs64(n->cum) >= cutoff;
			dropped += !t.keep[i] && (n->cum || n->flat);
		}
		if (dropped && (r = fill(&t)) < 0)
			goto out;
	}
	orig = t.n;
	if (opts->nodecount && t.n > opts->nodecount) {
		for (size_t i = opts->nodecount; i < t.n; i++)
			t.keep[t.v[i]] = false;
		r = fill(&t);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < t.n; i++)
		shown = sat_add64(shown, t.g.nodes[t.v[i]].flat);

	scale = table_scale(&t, total, unit);
	units_format_at(shown_s, sizeof(shown_s), shown, unit, scale);
	units_format_at(total_s, sizeof(total_s), total, unit, scale);
	units_percent(sp, sizeof(sp), shown, total);
	fprintf(out, "Showing nodes accounting for %s, %s of %s total\n", shown_s,
		sp + strspn(sp, " "), total_s);
	if (total && dropped) {
		units_format_at(cut_s, sizeof(cut_s),
				sat_abs64((int64_t)((double)total * opts->nodefraction)), unit,
				scale);
		fprintf(out, "Dropped %zu node%s (cum <= %s)\n", dropped, dropped > 1 ? "s" : "",
			cut_s);
	}
	if (total && t.n && t.n < orig)
		fprintf(out, "Showing top %zu nodes out of %zu\n", t.n, orig);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (size_t i = 0; i < t.n; i++) {
		const struct graph_node *n = &t.g.nodes[t.v[i]];

		sum = sat_add64(sum, n->flat);
		units_format_at(flat, sizeof(flat), n->flat, unit, scale);
		units_format_at(cum, sizeof(cum), n->cum, unit, scale);
		units_percent(fp, sizeof(fp), n->flat, total);
		units_percent(sp, sizeof(sp), sum, total);
		units_percent(cp, sizeof(cp), n->cum, total);
		fprintf(out, "%10s %s %s %10s %s  ", flat, fp, sp, cum, cp);
		text_term(out, st->names[t.v[i]]);
		fputs(!n->inline_in ? "\n"
		      : n->call_in  ? " (partial-inline)\n"
				    : " (inline)\n",
		      out);
	}
	r = ferror(out) ? -EIO : 0;
out:
	free(t.keep);
	free(t.v);
	graph_release(&t.g);
	return r;
}
