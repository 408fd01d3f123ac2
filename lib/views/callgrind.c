/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/views/callgrind.h"
#include "lib/views/graph.h"

/* Edges by caller, then callee: callgrind lists each function's calls after it. */
static int by_caller(const void *a, const void *b)
{
	const struct graph_edge *x = a, *y = b;

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

/*
 * Each function's self cost, and each call's inclusive cost and count of
 * samples through it, recursion included (an edge from a function to
 * itself): what KCachegrind and callgrind_annotate expect.
 */
int callgrind_write(const struct stacks *st, FILE *out)
{
	struct graph g = {0};
	bool *named = calloc(st->nnodes + 1, sizeof(*named));
	bool *seen = calloc(st->nnodes + 1, sizeof(*seen));
	const struct graph_edge *e;
	int r;

	if (!named || !seen) {
		r = -ENOMEM;
		goto out;
	}
	r = graph_build(&g, st, &(struct graph_options){.edges = true, .self_edges = true});
	if (r < 0)
		goto out;
	/* In place: the graph's edge index is not used again. */
	if (g.nedges > 1)
		qsort(g.edges, g.nedges, sizeof(*g.edges), by_caller);
	e = g.edges;

	fprintf(out, "# callgrind format\nversion: 1\ncreator: cprof\npositions: line\n");
	fprintf(out, "events: %s_%s\n", st->type, st->unit);
	fprintf(out, "summary: %" PRId64 "\n\nfl=(1) ???\n", st->total);
	/* Functions with callees, in order, each followed by its calls; then the leaves. */
	for (size_t i = 0; i < g.nedges; i++) {
		if (i == 0 || e[i].caller != e[i - 1].caller) {
			fputc('\n', out);
			put_fn(out, "fn", st, e[i].caller, named);
			fprintf(out, "0 %" PRId64 "\n", g.nodes[e[i].caller].flat);
			seen[e[i].caller] = true;
		}
		put_fn(out, "cfn", st, e[i].callee, named);
		fprintf(out, "calls=%" PRId64 " 0\n0 %" PRId64 "\n", e[i].samples, e[i].value);
	}
	for (size_t n = 0; n < st->nnodes; n++) {
		if (seen[n] || !g.nodes[n].flat)
			continue;
		fputc('\n', out);
		put_fn(out, "fn", st, (uint32_t)n, named);
		fprintf(out, "0 %" PRId64 "\n", g.nodes[n].flat);
	}
	fprintf(out, "\ntotals: %" PRId64 "\n", st->total);
	r = ferror(out) ? -EIO : 0;
out:
	free(named);
	free(seen);
	graph_release(&g);
	return r;
}
