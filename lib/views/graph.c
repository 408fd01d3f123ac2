/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/base/vec.h"
#include "lib/views/graph.h"

struct edge_key {
	const struct graph *g;
	uint32_t caller, callee;
	bool residual;
};

static bool edge_eq(const void *ctx, uint32_t idx)
{
	const struct edge_key *k = ctx;
	const struct graph_edge *e = &k->g->edges[idx];

	return e->caller == k->caller && e->callee == k->callee && e->residual == k->residual;
}

/* Count sample s on the edge caller → callee, once. */
static int add_edge(struct graph *g, uint32_t caller, uint32_t callee, bool residual, int64_t value,
		    size_t s)
{
	struct edge_key k = {g, caller, callee, residual};
	uint64_t h = hash_u64(((uint64_t)caller << 32) | callee, residual);
	uint32_t idx;
	int r;

	if (VEC_PUSH_RESERVE(g->edges, g->nedges, g->edges_cap) < 0 ||
	    VEC_PUSH_RESERVE(g->edge_last, g->nedges, g->edge_last_cap) < 0)
		return -ENOMEM;
	r = hashmap_find_or_add(&g->edge_index, h, edge_eq, &k, (uint32_t)g->nedges, &idx);
	if (r < 0)
		return r;
	if (r == 0) {
		g->edges[idx] = (struct graph_edge){
			.caller = caller, .callee = callee, .residual = residual};
		g->edge_last[idx] = 0;
		g->nedges++;
	}
	if (g->edge_last[idx] != s + 1) {
		g->edges[idx].value = sat_add64(g->edges[idx].value, value);
		g->edges[idx].samples++;
		g->edge_last[idx] = s + 1;
	}
	return 0;
}

/*
 * Nodes, root to leaf as pprof walks a stack: a node's caller is the
 * nearest shown frame outside it, and the call was inlined when the node's
 * frame is not the outermost line of its location.
 */
static void add_nodes(struct graph *g, const struct stacks *st, const bool *keep, size_t s)
{
	const struct stacks_sample *smp = &st->samples[s];
	struct graph_node *parent = NULL;
	bool leaf_shown = false;

	for (size_t i = smp->n; i-- > 0;) {
		const struct stacks_frame *f = &st->frames[smp->off + i];
		struct graph_node *n = &g->nodes[f->node];

		leaf_shown = !keep || keep[f->node];
		if (!leaf_shown)
			continue;
		if (g->node_last[f->node] != s + 1) {
			n->cum = sat_add64(n->cum, smp->value);
			g->node_last[f->node] = s + 1;
		}
		if (parent && parent != n) {
			if (f->inlined)
				n->inline_in = true;
			else
				n->call_in = true;
		}
		parent = n;
	}
	/* The leaf itself must be shown: a hidden leaf's flat goes nowhere. */
	if (parent && leaf_shown)
		parent->flat = sat_add64(parent->flat, smp->value);
}

/* Edges, leaf to root, between the nearest shown frames. */
static int add_edges(struct graph *g, const struct stacks *st, const struct graph_options *o,
		     size_t s)
{
	const struct stacks_sample *smp = &st->samples[s];
	int64_t callee = -1;
	bool residual = false;
	int r = 0;

	for (uint32_t i = 0; i < smp->n && r == 0; i++) {
		uint32_t node = st->frames[smp->off + i].node;

		if (o->keep && !o->keep[node]) {
			residual = callee >= 0;
			continue;
		}
		if (callee >= 0 && (o->self_edges || (uint32_t)callee != node))
			r = add_edge(g, node, (uint32_t)callee, residual, smp->value, s);
		callee = node;
		residual = false;
	}
	return r;
}

int graph_build(struct graph *g, const struct stacks *st, const struct graph_options *o)
{
	int r = 0;

	graph_release(g);
	g->nnodes = st->nnodes;
	g->nodes = calloc(st->nnodes + 1, sizeof(*g->nodes));
	g->node_last = calloc(st->nnodes + 1, sizeof(*g->node_last));
	if (!g->nodes || !g->node_last)
		return -ENOMEM;
	for (size_t s = 0; s < st->nsamples && r == 0; s++) {
		add_nodes(g, st, o->keep, s);
		if (o->edges)
			r = add_edges(g, st, o, s);
	}
	return r;
}

void graph_release(struct graph *g)
{
	free(g->nodes);
	free(g->node_last);
	free(g->edges);
	free(g->edge_last);
	hashmap_release(&g->edge_index);
	memset(g, 0, sizeof(*g));
}
