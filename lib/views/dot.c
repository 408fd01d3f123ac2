/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/dot.h"
#include "lib/views/graph.h"
#include "lib/views/text.h"
#include "lib/base/units.h"

/* Nodes by cum, largest first; ties by node, for a stable graph. */
static int by_cum(const void *a, const void *b, void *ctx)
{
	const struct graph_node *n = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (n[x].cum != n[y].cum)
		return n[x].cum > n[y].cum ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/*
 * The nodecount nodes of largest cum, each with its flat and cum of the
 * whole profile, and the edges between them: an edge passing over nodes
 * not shown is dashed.
 */
int dot_write(const struct stacks *st, size_t nodecount, FILE *out)
{
	struct graph all = {0}, shown = {0};
	uint32_t *order = calloc(st->nnodes + 1, sizeof(*order));
	bool *keep = calloc(st->nnodes + 1, sizeof(*keep));
	const struct graph_node *nodes;
	size_t kept;
	char a[32], b[32], pa[16], pb[16];
	int r;

	if (!order || !keep) {
		r = -ENOMEM;
		goto out;
	}
	r = graph_build(&all, st, &(struct graph_options){0});
	if (r < 0)
		goto out;
	nodes = all.nodes;
	for (uint32_t i = 0; i < st->nnodes; i++)
		order[i] = i;
	qsort_r(order, st->nnodes, sizeof(*order), by_cum, all.nodes);
	kept = nodecount && nodecount < st->nnodes ? nodecount : st->nnodes;
	for (size_t i = 0; i < kept; i++)
		keep[order[i]] = nodes[order[i]].cum != 0;
	r = graph_build(&shown, st, &(struct graph_options){.keep = keep, .edges = true});
	if (r < 0)
		goto out;

	fprintf(out, "digraph \"cprof\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n");
	units_format(a, sizeof(a), st->total, st->unit);
	fprintf(out, "subgraph cluster_L { \"Type: ");
	text_dot(out, st->type);
	fprintf(out, "\" [shape=box fontsize=16 label=\"Type: ");
	text_dot(out, st->type);
	fprintf(out, "\\lTotal: %s\\lShowing %zu of %zu nodes\\l\"] }\n", a, kept, st->nnodes);
	for (size_t i = 0; i < kept; i++) {
		uint32_t n = order[i];
		double share = st->total ? (double)nodes[n].flat / (double)st->total : 0;

		if (!keep[n])
			continue;
		units_format(a, sizeof(a), nodes[n].flat, st->unit);
		units_format(b, sizeof(b), nodes[n].cum, st->unit);
		units_percent(pa, sizeof(pa), nodes[n].flat, st->total);
		units_percent(pb, sizeof(pb), nodes[n].cum, st->total);
		fprintf(out, "N%u [label=\"", n + 1);
		text_dot(out, st->names[n]);
		fprintf(out, "\\n%s (%s)\\nof %s (%s)\" shape=box fontsize=%d]\n", a,
			pa + strspn(pa, " "), b, pb + strspn(pb, " "), 8 + (int)(24 * share));
	}
	for (size_t i = 0; i < shown.nedges; i++) {
		const struct graph_edge *e = &shown.edges[i];

		units_format(a, sizeof(a), e->value, st->unit);
		fprintf(out, "N%u -> N%u [label=\" %s\"%s]\n", e->caller + 1, e->callee + 1, a,
			e->residual ? " style=dashed" : "");
	}
	fprintf(out, "}\n");
	r = ferror(out) ? -EIO : 0;
out:
	free(order);
	free(keep);
	graph_release(&all);
	graph_release(&shown);
	return r;
}
