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
#include "lib/views/text.h"
#include "lib/views/top.h"
#include "lib/base/units.h"

struct node {
	const char *name; /* borrowed from the stacks */
	int64_t flat, cum;
	size_t last_sample; /* +1 of the last sample counted in cum: recursion counts once */
	bool kept;
	/* Called as an inlined frame / as a real call: pprof's "(inline)" labels. */
	bool inline_in, call_in;
};

/*
 * Recompute flat, cum and the inline marks over the kept nodes only. Stacks
 * are walked root to leaf as pprof walks them: a node's caller is the
 * nearest kept frame outside it, and the call was inlined when the node's
 * frame is not the outermost line of its location.
 */
static void graph_fill(const struct stacks *st, struct node *nodes)
{
	for (size_t i = 0; i < st->nnodes; i++) {
		nodes[i].flat = nodes[i].cum = 0;
		nodes[i].last_sample = 0;
		nodes[i].inline_in = nodes[i].call_in = false;
	}
	for (size_t s = 0; s < st->nsamples; s++) {
		const struct stacks_sample *smp = &st->samples[s];
		struct node *parent = NULL;
		bool leaf_kept = false;

		for (size_t i = smp->n; i-- > 0;) {
			const struct stacks_frame *f = &st->frames[smp->off + i];
			struct node *n = &nodes[f->node];

			leaf_kept = n->kept;
			if (!n->kept)
				continue;
			if (n->last_sample != s + 1) {
				n->cum = sat_add64(n->cum, smp->value);
				n->last_sample = s + 1;
			}
			if (parent && parent != n) {
				if (f->inlined)
					n->inline_in = true;
				else
					n->call_in = true;
			}
			parent = n;
		}
		/* The leaf itself must be kept: a dropped leaf's flat goes nowhere. */
		if (parent && leaf_kept)
			parent->flat = sat_add64(parent->flat, smp->value);
	}
}

/* pprof's FlatNameOrder: |flat| descending, then name, then |cum| descending. */
static int by_flat(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	int c;

	if (sat_abs64(x->flat) != sat_abs64(y->flat))
		return sat_abs64(x->flat) > sat_abs64(y->flat) ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (sat_abs64(x->cum) != sat_abs64(y->cum))
		return sat_abs64(x->cum) > sat_abs64(y->cum) ? -1 : 1;
	return 0;
}

/* The kept nodes with any value, sorted into rows. */
static size_t graph_rows(struct node *nodes, size_t n, struct node **rows)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (nodes[i].kept && (nodes[i].flat || nodes[i].cum))
			rows[k++] = &nodes[i];
	qsort(rows, k, sizeof(*rows), by_flat);
	return k;
}

/* pprof's selectOutputUnit. */
static int table_scale(struct node **rows, size_t n, int64_t total, const char *unit)
{
	int64_t min = 0;
	int min_scale, max_scale;

	for (size_t i = 0; i < n; i++) {
		int64_t v = rows[i]->flat ? sat_abs64(rows[i]->flat) : sat_abs64(rows[i]->cum);

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
	struct node *nodes = calloc(st->nnodes + 1, sizeof(*nodes));
	struct node **rows = calloc(st->nnodes + 1, sizeof(*rows));
	size_t nrows = 0, dropped = 0, orig;
	int scale, r;

	if (!nodes || !rows) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < st->nnodes; i++)
		nodes[i] = (struct node){.name = st->names[i], .kept = true};

	graph_fill(st, nodes);
	for (size_t i = 0; i < st->nnodes; i++)
		flat_total = sat_add64(flat_total, nodes[i].flat);
	cutoff = sat_abs64((int64_t)((double)flat_total * opts->nodefraction));
	if (cutoff > 0) {
		for (size_t i = 0; i < st->nnodes; i++) {
			nodes[i].kept = sat_abs64(nodes[i].cum) >= cutoff;
			dropped += !nodes[i].kept && (nodes[i].cum || nodes[i].flat);
		}
		if (dropped)
			graph_fill(st, nodes);
	}
	nrows = orig = graph_rows(nodes, st->nnodes, rows);
	if (opts->nodecount && nrows > opts->nodecount) {
		for (size_t i = opts->nodecount; i < nrows; i++)
			rows[i]->kept = false;
		graph_fill(st, nodes);
		nrows = graph_rows(nodes, st->nnodes, rows);
	}
	for (size_t i = 0; i < nrows; i++)
		shown = sat_add64(shown, rows[i]->flat);

	scale = table_scale(rows, nrows, total, unit);
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
	if (total && nrows && nrows < orig)
		fprintf(out, "Showing top %zu nodes out of %zu\n", nrows, orig);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (size_t i = 0; i < nrows; i++) {
		const struct node *n = rows[i];

		sum = sat_add64(sum, n->flat);
		units_format_at(flat, sizeof(flat), n->flat, unit, scale);
		units_format_at(cum, sizeof(cum), n->cum, unit, scale);
		units_percent(fp, sizeof(fp), n->flat, total);
		units_percent(sp, sizeof(sp), sum, total);
		units_percent(cp, sizeof(cp), n->cum, total);
		fprintf(out, "%10s %s %s %10s %s  ", flat, fp, sp, cum, cp);
		text_term(out, n->name);
		fputs(!n->inline_in ? "\n"
		      : n->call_in  ? " (partial-inline)\n"
				    : " (inline)\n",
		      out);
	}
	r = ferror(out) ? -EIO : 0;
out:
	free(rows);
	free(nodes);
	return r;
}
