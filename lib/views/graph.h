/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_GRAPH_H
#define CPROF_LIB_VIEWS_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/hash.h"
#include "lib/views/stacks.h"

/*
 * The call graph under top, dot and callgrind, as pprof's internal/graph
 * serves its reports: one node per stacks node (function, or function and
 * line), with its flat value (the samples ending in it) and cum value
 * (the samples through it, counted once however often a recursive stack
 * holds it), and the caller → callee edges between the frames shown.
 *
 * A graph may show only some nodes (keep): a sample's hidden frames are
 * passed over, its flat value goes nowhere when its leaf is hidden (pprof's
 * rule), and an edge that passes over hidden frames is "residual".
 */

struct graph_node {
	int64_t flat, cum;
	/* Reached from a shown caller as an inlined frame / as a real call. */
	bool inline_in, call_in;
};

struct graph_edge {
	uint32_t caller, callee; /* stacks nodes */
	int64_t value;		 /* of the samples through it, each counted once */
	int64_t samples;	 /* how many samples pass through it */
	bool residual;		 /* passes over hidden frames */
};

struct graph {
	struct graph_node *nodes; /* one per stacks node */
	size_t nnodes;
	struct graph_edge *edges; /* in the order first met, leaf to root */
	size_t nedges, edges_cap;
	/* Private: the edges by (caller, callee, residual); per node and per
	 * edge, the last sample counted (+1), so each counts a sample once. */
	struct hashmap edge_index;
	size_t *node_last, *edge_last;
	size_t edge_last_cap;
};

struct graph_options {
	const bool *keep; /* per stacks node: shown; NULL shows every node */
	bool edges;	  /* find the edges too (top does not need them) */
	bool self_edges;  /* keep an edge from a node to itself (recursion) */
};

/* Build g for st. Returns 0, or -ENOMEM. Free with graph_release. */
int graph_build(struct graph *g, const struct stacks *st, const struct graph_options *o);

/* Free what g holds; it may be built again. */
void graph_release(struct graph *g);

#endif
